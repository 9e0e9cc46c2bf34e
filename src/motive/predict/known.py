"""The pairs the dataset already knows, with the split subset or annotation that makes them known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from motive.predict.load import Predictor
from motive.tables import read_table


class KnownPairs:
    """Every compound-gene pair the dataset knows, with the subset it has in the run's split
    (train / message / valid / test / unused) or ``annotated`` (in the dataset's annotations,
    filtered out of the graph, e.g. by the degree cap or a missing profile)."""

    LABELS = np.array(["none", "train", "message", "valid", "test", "unused", "annotated"], dtype=object)

    def __init__(self, run: Predictor):
        graph = run.graph
        self.n_targets = len(graph.targets) + 1_000_000_000  # room for new gene ids
        s, t = graph.endpoints("st")
        codes = pd.Categorical(run.split.subsets["st"], categories=self.LABELS).codes
        keys, labels = [s * self.n_targets + t], [codes]
        path = Path(run.config.data) / "inputs" / "annotations" / "compound_gene.parquet"
        if path.is_file():
            annotations = read_table(path, columns=["inchikey", "target"])
            a = graph.sources.keys.get_indexer(annotations["inchikey"].astype(str).str[:14])
            b = graph.targets.keys.get_indexer(annotations["target"].astype(str))
            both = (a >= 0) & (b >= 0)
            keys.append(a[both] * self.n_targets + b[both])
            labels.append(np.full(both.sum(), 6))
        keys, labels = np.concatenate(keys), np.concatenate(labels)
        order = np.lexsort((labels, keys))  # graph subsets win over "annotated" for the same pair
        keys, labels = keys[order], labels[order]
        first = np.r_[True, keys[1:] != keys[:-1]]
        self.keys, self.labels = keys[first], labels[first]

    def flags(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        query = np.asarray(sources, np.int64) * self.n_targets + np.asarray(targets, np.int64)
        index = np.minimum(np.searchsorted(self.keys, query), max(len(self.keys) - 1, 0))
        found = self.keys[index] == query if len(self.keys) else np.zeros(len(query), bool)
        return self.LABELS[np.where(found, self.labels[index], 0)]
