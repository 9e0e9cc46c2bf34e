"""Negative sampling speed and memory at MOTIVE scale (issue: splits). Run on demand:

    .venv/bin/python benchmarks/negatives.py

Targets: 1:10 test negatives for the scale-1 synthetic graph (~5,000 positives) < 0.5 s and
< 300 MB extra memory (reference: 21.5 s, 4.6 GiB); one 512-positive training batch < 5 ms.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np

from motive import splits
from motive.data import synth
from motive.splits.negatives import NegativeSampler, draw_eval_negatives


def main() -> None:
    graph = synth.generate(synth.SynthConfig(scale=1, seed=0))["st_expanded"]
    print(f"graph: {len(graph.sources)} sources, {len(graph.targets)} targets, {len(graph.edges['st'])} ST edges")
    for split_name in splits.SPLITS:
        split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
        n_test = int((split.subsets["st"] == "test").sum())
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            draw_eval_negatives(graph, split, "test")
            timings.append(time.perf_counter() - started)
        tracemalloc.start()
        draw_eval_negatives(graph, split, "test")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        sampler = NegativeSampler(graph, split, "train")
        s, t = split.supervision(graph, "train")
        rng = np.random.default_rng(0)
        batches = [rng.choice(len(s), 512, replace=False) for _ in range(200)]
        started = time.perf_counter()
        for batch in batches:
            sampler.sample(s[batch], t[batch], 1, rng)
        per_batch = (time.perf_counter() - started) / len(batches)
        print(
            f"{split_name:12s} test positives {n_test:5d}: 1:10 negatives median "
            f"{statistics.median(timings) * 1000:6.1f} ms, "
            f"peak traced memory {peak / 2**20:5.1f} MiB; train batch of 512 (1:1): {per_batch * 1000:5.2f} ms"
        )


if __name__ == "__main__":
    main()
