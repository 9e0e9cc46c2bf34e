"""The names every stage agrees on: split stages, ST subsets, split kinds and their official
folder names, the cold sides of each split, and the choice lists of settings (graph types, gene
types, devices, monitors, losses, modes). Declared once here; nothing else is."""

from __future__ import annotations

STAGES = ("train", "valid", "test")
# Stage at which an edge of each subset first becomes visible; unused edges never are.
SUBSET_STAGE = {"message": 0, "train": 0, "valid": 1, "test": 2, "unused": 3}
SPLITS = ("random", "cold_source", "cold_target", "cold_both")
OFFICIAL_NAMES = {"random": "random", "cold_source": "source", "cold_target": "target", "cold_both": "zero_shot"}
COLD_SIDES = {"random": (), "cold_source": ("source",), "cold_target": ("target",), "cold_both": ("source", "target")}

# Which same-type edge tables each graph type keeps (paper Section 3.3).
GRAPH_TYPES = {
    "bipartite": (),
    "s_expanded": ("ss",),
    "t_expanded": ("tt",),
    "st_expanded": ("ss", "tt"),
}
GENE_TYPES = ("orf", "crispr")  # the official layout's gene profile folders
DEVICES = ("auto", "cpu", "cuda")  # auto: cuda when a GPU is visible
# validation metrics that can pick the best epoch (mrr: the filtered full ranking's, every epoch)
MONITORS = ("hits", "auprc", "auroc", "bce", "mrr")
LOSSES = ("bce", "bpr")
MODES = ("full", "neighbor")  # full-graph message passing, or sampled 2-hop subgraphs
NEGATIVE_MODES = ("batch", "global")  # paper Algorithm 1, or uniform over every allowed pair
LINK_VIEWS = ("none", "profile", "structure")  # the compound view similarity links are computed from
SIGNAL_VIEWS = ("profile", "structure", "both")  # where a synthetic dataset plants its signal
TRACKERS = ("none", "csv", "tensorboard", "mlflow")  # where a run also logs (motive.experiments.trackers)
EVAL_NEGATIVES = ("uniform", "degree")  # stored valid/test negatives: Algorithm 1, or degree-corrected


def negatives_key(stage: str, kind: str = "uniform") -> str:
    """Where a split keeps a stage's stored negatives of ``kind``: ``valid`` or ``valid_degree``."""
    return stage if kind == "uniform" else f"{stage}_{kind}"
