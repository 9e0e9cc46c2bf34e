"""A learned ranker over pair evidence: the network heuristics and the lookups as features of a
pair (``motive.models.pair_features``), combined by a small network trained on the training
supervision edges.

The score is a linear term plus a one-hidden-layer network of the features (32 units: chosen on
the validation full MRR of l1000's four splits over 8, 16, 32 and 64); with ``gnn`` the dot product
of a two-layer GNN's embeddings (the paper's ``*_cp`` encoder) joins it. ``gin_evidence`` is GIN
given the pair evidence: the ablation that shows what a node-wise GNN misses (the counts of paths
between the two ends of a pair, which a dot product of two node embeddings cannot express: Zhang
et al. 2021, "Labeling Trick").

Leakage-free as its features are (``motive.models.pair_features``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from motive.checks import positive_int
from motive.errors import MotiveError
from motive.models.base import LinkModel, StageGraph, model_argument
from motive.models.pair_features import feature_planes, features_for, pair_features

CONVS = ("gin", "sage", "gat")  # the GNN a ranker may add (``gnn``)


class EvidenceRanker(LinkModel):
    """Learned combination of pair evidence (see the module docstring)."""

    def __init__(
        self,
        stage: StageGraph,
        hidden: int = 32,
        gnn: str = "none",
        gnn_hidden: int = 64,
    ):
        super().__init__()
        hidden = model_argument("hidden", positive_int, hidden)
        gnn_hidden = model_argument("gnn_hidden", positive_int, gnn_hidden)
        if gnn not in ("none", *CONVS):
            raise MotiveError(f"model argument 'gnn' must be none or one of {', '.join(CONVS)}, got {gnn!r}")
        self.names = features_for(stage.split_name, "structure" in stage.views.get("source", {}))
        n = len(self.names)
        # the GNN term enters through a gate that starts at 0: training starts from the evidence
        # alone and adds it only as far as it helps (a random embedding's dot products would
        # otherwise drown the evidence at the first epochs)
        self.gate = nn.Parameter(torch.zeros(()))
        self.gnn = None
        if gnn != "none":
            from motive.models.gnn import GNN

            in_dims = {side: x.shape[1] for side, x in stage.x.items()}
            self.gnn = GNN(gnn, "cp", sorted(stage.edges), in_dims, stage.num_nodes, hidden=gnn_hidden)
        self.linear = nn.Linear(n, 1)
        self.mlp = nn.Sequential(nn.Linear(n, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, stage: StageGraph, sources: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        s, t = sources.cpu().numpy(), targets.cpu().numpy()
        features = _kept_pairs(stage, s, t, self.names) if self.training else pair_features(stage, s, t, self.names)
        block = torch.as_tensor(features, dtype=torch.float32, device=sources.device)
        score = self._combine(block)
        return score if self.gnn is None else score + self.gate * self.gnn(stage, sources, targets)

    def _combine(self, block: torch.Tensor) -> torch.Tensor:
        """The score of each row of pair features."""
        return self.linear(block).squeeze(-1) + self.mlp(block).squeeze(-1)

    @torch.no_grad()
    def score_blocks(
        self, stage: StageGraph, query_side: str, queries: np.ndarray, candidates: np.ndarray, block: int = 128
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Every query against every candidate from dense feature blocks (compounds x genes x
        features), a block of queries at a time."""
        self.eval()
        queries, candidates = np.asarray(queries, np.int64), np.asarray(candidates, np.int64)
        z = None if self.gnn is None else self.gnn.encode(stage)  # once for every block
        for start in range(0, len(queries), block):
            rows = queries[start : start + block]
            sources, targets = (rows, candidates) if query_side == "source" else (candidates, rows)
            matrix = self._matrix(stage, sources, targets, z, query_side)
            yield start, np.ascontiguousarray(matrix if query_side == "source" else matrix.T)

    def _matrix(
        self, stage: StageGraph, sources: np.ndarray, targets: np.ndarray, z: dict | None, query_side: str
    ) -> np.ndarray:
        planes = torch.as_tensor(_kept_planes(stage, sources, targets, self.names, query_side)).to(stage.device)
        n_s, n_t = len(sources), len(targets)
        columns = planes.reshape(len(self.names), n_s * n_t)
        step = max(SCORED_ROWS // max(n_t, 1), 1) * n_t  # whole queries at a time: a query's ties stay exact
        matrix = torch.cat([self._combine_columns(columns[:, i : i + step]) for i in range(0, n_s * n_t, step)])
        matrix = matrix.reshape(n_s, n_t)
        if z is not None:
            s_rows, t_rows = (torch.as_tensor(ids, device=stage.device) for ids in (sources, targets))
            matrix = matrix + self.gate * self.gnn.decode_matrix(z, s_rows, t_rows)
        return matrix.cpu().numpy()

    def _combine_columns(self, x: torch.Tensor) -> torch.Tensor:
        """``_combine`` of pairs given as columns (features x pairs, the planes' layout): the same
        layers with the products taken the other way round, to rounding."""
        first, last = self.mlp[0], self.mlp[2]
        hidden = torch.addmm(first.bias[:, None], first.weight, x).relu_()
        linear = torch.addmm(self.linear.bias[:, None], self.linear.weight, x)
        return (linear + torch.addmm(last.bias[:, None], last.weight, hidden)).squeeze(0)


SCORED_ROWS = 2**16  # pairs scored at once: the hidden layer (8 MiB) near the cache (benchmarks/predict_full.py)


KEPT_PAIRS = 2**19  # pairs whose features a training stage keeps (every positive: met again each epoch)


def _kept_pairs(stage: StageGraph, sources: np.ndarray, targets: np.ndarray, names: list[str]) -> np.ndarray:
    """``pair_features``, each pair's row kept on the stage until ``KEPT_PAIRS`` rows are kept:
    a stage's features never change, and training meets its positives again every epoch. A
    pair's features are its own whatever pairs come with it (to rounding, tested; on l1000 the
    preset's metrics are the same bytes), so a kept row is the row it would get again."""
    kept = stage.cache.setdefault("evidence-ranker-pairs", {}).setdefault(",".join(names), _PairRows(len(names)))
    keys = sources.astype(np.int64) * stage.num_nodes["target"] + targets
    at = np.fromiter((kept.index.get(key, -1) for key in keys.tolist()), np.int64, len(keys))
    out = np.empty((len(keys), len(names)))
    found = at >= 0
    out[found] = kept.rows[at[found]]
    if not found.all():
        out[~found] = fresh = pair_features(stage, sources[~found], targets[~found], names)
        kept.add(keys[~found], fresh)
    return out


class _PairRows:
    """Feature rows by pair key (source * targets + target), up to ``KEPT_PAIRS`` rows."""

    def __init__(self, width: int):
        self.index: dict[int, int] = {}
        self.rows, self.count = np.empty((0, width)), 0

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        room = min(len(keys), KEPT_PAIRS - self.count)
        if room <= 0:
            return
        if self.count + room > len(self.rows):  # grow by doubling: a batch's copy is not paid every batch
            grown = np.empty((min(max(2 * len(self.rows), self.count + room), KEPT_PAIRS), rows.shape[1]))
            grown[: self.count] = self.rows[: self.count]
            self.rows = grown
        self.rows[self.count : self.count + room] = rows[:room]
        self.index.update(zip(keys[:room].tolist(), range(self.count, self.count + room), strict=True))
        self.count += room


KEPT_BYTES = 2**30  # feature planes the valid stage keeps for its next full ranking


def _kept_planes(
    stage: StageGraph, sources: np.ndarray, targets: np.ndarray, names: list[str], query_side: str
) -> np.ndarray:
    """``feature_planes``, kept on the valid stage while the kept planes stay under ``KEPT_BYTES``:
    a stage's features never change, a full-ranking monitor ranks the valid stage every epoch
    (test and prediction rank theirs once), and the run's last validation ranking reads the
    monitor's queries (a subset, ``monitored``) among all the others. A block asked for again is
    served as it is; a query in another block is read from the block it was computed in."""
    if stage.stage != "valid":
        return feature_planes(stage, sources, targets, names)
    axis = 1 if query_side == "source" else 2
    rows, others = (sources, targets) if query_side == "source" else (targets, sources)
    key = hashlib.sha256(others.tobytes() + f"{query_side}:{','.join(names)}".encode()).hexdigest()
    store = stage.cache.setdefault("evidence-ranker-planes", {"bytes": 0})
    blocks, kept = store.setdefault(key, ({}, {}))  # the blocks by their rows; row -> (block, position)
    if rows.tobytes() in blocks:
        return blocks[rows.tobytes()]
    missing = np.array([row for row in rows.tolist() if row not in kept], np.int64)
    if len(missing):
        block = feature_planes(stage, *((missing, targets) if axis == 1 else (sources, missing)), names)
        if len(missing) == len(rows):
            if store["bytes"] + block.nbytes <= KEPT_BYTES:
                store["bytes"] += block.nbytes
                blocks[rows.tobytes()] = block
                kept.update((row, (block, i)) for i, row in enumerate(missing.tolist()))
            return block
        fresh = {row: (block, i) for i, row in enumerate(missing.tolist())}
    parts = [kept[row] if row in kept else fresh[row] for row in rows.tolist()]
    return np.stack([block[:, i] if axis == 1 else block[:, :, i] for block, i in parts], axis=axis)
