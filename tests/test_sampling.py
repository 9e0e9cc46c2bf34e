"""Neighbour-sampled batches (``motive/training/sampling.py``): fan-outs are respected and every
neighbour gets drawn."""

import numpy as np
import torch


def test_neighbor_sampling_respects_fanout():
    from motive.models import StageGraph
    from motive.training.sampling import NeighborBatches

    # Target 0 receives from sources 0..9; target 1 from source 3 only.
    edges = {("source", "binds", "target"): (np.r_[np.arange(10), 3], np.r_[np.zeros(10, int), 1])}
    stage = StageGraph.from_edges("train", "random", {"source": torch.zeros(10, 2), "target": torch.zeros(2, 2)}, edges)
    sampler = NeighborBatches(stage, (4,))
    rng = np.random.default_rng(0)
    empty = np.zeros(0, np.int64)
    for _ in range(20):
        found = sampler._sample({"source": empty, "target": np.array([0, 1])}, 4, rng)
        assert 3 in found["source"] and len(found["source"]) <= 5  # <= 4 from target 0, source 3 from target 1
    everything = sampler._sample({"source": empty, "target": np.array([0, 1])}, -1, rng)
    assert everything["source"].tolist() == list(range(10))
    draws = np.concatenate(
        [sampler._sample({"source": empty, "target": np.array([0])}, 4, rng)["source"] for _ in range(500)]
    )
    assert np.bincount(draws, minlength=10).min() > 150  # every neighbour gets sampled (~200 each)
