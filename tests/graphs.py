"""Random small graphs for property tests (any shape, any density)."""

import numpy as np
import pandas as pd

from motive.data.graph import Graph, NodeTable


def random_graph(seed: int, n_sources: int, n_targets: int, n_st: int, n_ss: int, n_tt: int) -> Graph:
    rng = np.random.default_rng(seed)

    def pairs(n_a, n_b, n, same):
        keys = rng.choice(n_a * n_b, size=min(n * 3, n_a * n_b), replace=False)
        a, b = keys // n_b, keys % n_b
        if same:
            keep = a < b
            a, b = a[keep], b[keep]
        return a[:n], b[:n]

    s, t = pairs(n_sources, n_targets, n_st, False)
    sa, sb = pairs(n_sources, n_sources, n_ss, True)
    ta, tb = pairs(n_targets, n_targets, n_tt, True)
    sources = NodeTable(pd.Index([f"S{i:05d}" for i in range(n_sources)]), rng.standard_normal((n_sources, 4)))
    targets = NodeTable(pd.Index([f"T{i:05d}" for i in range(n_targets)]), rng.standard_normal((n_targets, 3)))
    edges = {
        "st": pd.DataFrame({"source": s, "target": t}),
        "ss": pd.DataFrame({"source_a": sa, "source_b": sb}),
        "tt": pd.DataFrame({"target_a": ta, "target_b": tb}),
    }
    return Graph(sources, targets, edges).validate()
