"""PyG models under motive's protocol (``motive/pyg.py``): the models guide's ``to_hetero`` GraphSAGE
trains through ``motive train`` and passes the shared model checks, and a stage's ``HeteroData``
holds only what that stage may see."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motive import splits, testing
from motive.cli import main
from motive.data import layout, synth
from motive.evaluation.evaluator import eval_pairs
from motive.models import REGISTRY, StageGraph, load_plugin
from motive.pyg import register_pyg_model, to_hetero_data

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "models.md"


def readme_example() -> str:
    text = GUIDE.read_text()
    return next(block for block in text.split("```python\n")[1:] if "@register_pyg_model(" in block).split("```")[0]


@pytest.mark.parametrize("split_name", ["cold_source", "cold_target", "cold_both"])
def test_the_hetero_data_of_a_stage_holds_no_held_out_edge(split_name):
    graph = synth.generate(synth.SynthConfig(scale=0.05, seed=1))["st_expanded"]
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
    n_targets = len(graph.targets)
    for k, stage in enumerate(splits.STAGES):
        pairs = eval_pairs(graph, split, stage) if stage != "train" else None
        supervision = None if pairs is None else (pairs.sources, pairs.targets, pairs.labels)
        data = to_hetero_data(StageGraph.build(graph, split, stage), supervision)
        message_keys = set()
        for (src, _, dst), index in data.edge_index_dict.items():
            a, b = index.numpy()
            assert (split.node_stage[src][a] <= k).all() and (split.node_stage[dst][b] <= k).all()
            if (src, dst) == ("source", "target"):
                message_keys |= set((a * n_targets + b).tolist())
        for later in splits.STAGES[k:]:  # this stage's and later supervision pairs pass no message
            s, t = split.supervision(graph, later)
            assert not message_keys & set((s * n_targets + t).tolist())
        if supervision is not None:
            relation = data["source", "binds", "target"]
            assert relation.edge_label_index.shape == (2, len(pairs.labels))
            assert torch.equal(relation.edge_label, torch.as_tensor(pairs.labels, dtype=torch.float))


def test_the_readme_pyg_model_trains_through_motive_and_passes_the_model_checks(tmp_path):
    plugin = tmp_path / "hetero_sage.py"
    plugin.write_text(readme_example())
    name = readme_example().split('@register_pyg_model("')[1].split('"')[0]
    layout.write_dataset(synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0)), tmp_path / "data")
    argv = ["-q", "train", "--data", str(tmp_path / "data"), "--split", "cold_source", "--model", name]
    argv += ["--model-kwargs", '{"hidden": 64}', "--epochs", "20", "--hits-k", "5", "--plugin", str(plugin)]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test"]["auroc"] > 0.55  # new compounds, ranked from their profiles and the graph
    load_plugin(plugin)
    for check in testing.CHECKS:
        check(name, hidden=8)


class Scaled(torch.nn.Module):
    """A module with its own decoder: motive must use it for pairs and for the full matrix."""

    def __init__(self, metadata, in_channels, hidden: int = 4):
        super().__init__()
        self.lin = torch.nn.ModuleDict({t: torch.nn.Linear(size, hidden) for t, size in in_channels.items()})

    def forward(self, x_dict, edge_index_dict):
        return {t: self.lin[t](x) for t, x in x_dict.items()}

    def decode(self, z, sources, targets):
        return 3 * (z["source"][sources] * z["target"][targets]).sum(-1) + 1


def test_a_modules_own_decoder_scores_pairs_and_blocks():
    register_pyg_model("test_scaled")(Scaled)
    try:
        model = testing.trained("test_scaled")
        stage = testing.planted().stages["test"]
        z = model.encode(stage)
        sources, targets = np.array([0, 1, 2]), np.array([3, 4, 5])
        expected = 3 * (z["source"][sources] * z["target"][targets]).sum(-1) + 1
        np.testing.assert_allclose(model.score(stage, sources, targets), expected.detach().numpy(), rtol=1e-5)
        testing.check_pair_scores_agree("test_scaled")
    finally:
        REGISTRY.pop("test_scaled")
