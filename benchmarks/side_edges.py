"""What the network heuristics would reach on the cold splits if a held-out node's same-type
edges were side information (issue 36's open protocol question). Run on demand, never in CI.

    .venv/bin/python benchmarks/side_edges.py --data runs/l1000 [--splits cold_target,cold_source] [--seeds 0,1,2,3]

Under the official visibility a held-out node's compound-compound and gene-gene edges carry its
stage's label and are hidden at that stage, so every network path from it is empty and motive
refuses the heuristics there. This script rebuilds the valid and test stage graphs with every
same-type edge whose two ends the stage may see (its ST edges stay as the split says), then
scores popularity and each network heuristic with motive's own evaluator (filtered full ranking)
and prints test full MRR. It changes nothing in motive; it measures what the option would give.
"""

from __future__ import annotations

import argparse

import numpy as np

from motive.config import TrainConfig
from motive.models import StageGraph, build_model
from motive.models.network import KINDS, NetworkPaths
from motive.names import STAGES
from motive.prepare import prepare
from motive.train import evaluator_of

SAME_TYPE = (("ss", "source", ("source", "similar", "source")), ("tt", "target", ("target", "interacts", "target")))


def side_stage(graph, split, stage: str) -> StageGraph:
    """The stage's graph with every same-type edge between two nodes it may see."""
    built = StageGraph.build(graph, split, stage)
    edges, k = dict(built.edges), STAGES.index(stage)
    for kind, side, relation in SAME_TYPE:
        if kind in graph.edges:
            a, b = graph.endpoints(kind)
            seen = (split.node_stage[side][a] <= k) & (split.node_stage[side][b] <= k)
            edges[relation] = (np.r_[a[seen], b[seen]], np.r_[b[seen], a[seen]])
    return StageGraph.from_edges(stage, split.config.split, built.x, edges)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--splits", default="cold_target,cold_source,cold_both")
    parser.add_argument("--seeds", default="0,1,2,3")
    parser.add_argument("--hits-k", type=int, default=25)
    args = parser.parse_args()
    names = ["popularity", *KINDS]
    print("| split | split seed | " + " | ".join(names) + " |\n|---|---|" + "---|" * len(names))
    for split_name in args.splits.split(","):
        for seed in map(int, args.seeds.split(",")):
            config = TrainConfig(
                data=args.data,
                split=split_name,
                split_seed=seed,
                model="popularity",
                hits_k=args.hits_k,
                ranking_eval=True,
                bootstrap=0,
                calibrate=False,
            )
            prepared = prepare(config)
            stages = {stage: side_stage(prepared.graph, prepared.split, stage) for stage in ("valid", "test")}
            evaluator, mrr = evaluator_of(config, prepared), []
            for name in names:
                model = (
                    build_model(name, stages["test"]) if name == "popularity" else NetworkPaths(stages["test"], name)
                )
                mrr.append(evaluator.evaluate(model, stages).metrics["test"]["full_mrr"])
            print(f"| {split_name} | {seed} | " + " | ".join(f"{value:.3f}" for value in mrr) + " |", flush=True)


if __name__ == "__main__":
    main()
