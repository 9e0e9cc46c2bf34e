"""The names every stage agrees on: split stages, ST subsets, split kinds and their official
folder names, and the cold sides of each split. Declared once here; nothing else is."""

from __future__ import annotations

STAGES = ("train", "valid", "test")
# Stage at which an edge of each subset first becomes visible; unused edges never are.
SUBSET_STAGE = {"message": 0, "train": 0, "valid": 1, "test": 2, "unused": 3}
SPLITS = ("random", "cold_source", "cold_target", "cold_both")
OFFICIAL_NAMES = {"random": "random", "cold_source": "source", "cold_target": "target", "cold_both": "zero_shot"}
COLD_SIDES = {"random": (), "cold_source": ("source",), "cold_target": ("target",), "cold_both": ("source", "target")}
