"""The GNN layers (``motive/models/gnn.py``) against PyG's operators, and the last layer that
computes only the decoded nodes."""

import numpy as np
import pytest
import torch
from torch_geometric.nn import GINConv, SAGEConv

from motive import backend, splits
from motive.data import synth
from motive.evaluation.evaluator import eval_pairs
from motive.models import StageGraph, build_model
from motive.models.gnn import GIN, SAGE
from motive.training.runs import accelerated


@pytest.fixture(scope="module")
def planted():
    """A small synthetic graph whose features carry the latent that drives edges (signal 1.0)."""
    graph = synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0, source_dim=32, target_dim=24))[
        "st_expanded"
    ]
    split = splits.make_split(graph, splits.SplitConfig("random", 0))
    stages = {stage: StageGraph.build(graph, split, stage) for stage in splits.STAGES}
    return graph, split, stages


def test_gnn_layers_equal_pyg_operators():
    torch.manual_seed(0)
    x_src, x_dst = torch.randn(7, 8), torch.randn(5, 8)
    src, dst = np.array([0, 1, 2, 3, 6, 6, 4]), np.array([0, 0, 1, 2, 2, 4, 4])
    x = {"source": x_src, "target": x_dst}
    stage = StageGraph.from_edges("train", "random", x, {("source", "binds", "target"): (src, dst)})
    relation = ("source", "binds", "target")
    edge_index = torch.tensor(np.stack([src, dst]))

    ours, theirs = SAGE(8), SAGEConv((8, 8), 8)
    theirs.lin_l.weight.data, theirs.lin_l.bias.data = ours.lin_l.weight.data, ours.lin_l.bias.data
    theirs.lin_r.weight.data = ours.lin_r.weight.data
    assert torch.allclose(ours(x_src, x_dst, stage, relation), theirs((x_src, x_dst), edge_index), atol=1e-5)

    ours_gin = GIN(8)
    ours_gin.eps.data.fill_(0.3)
    theirs_gin = GINConv(ours_gin.nn, eps=0.3)
    assert torch.allclose(ours_gin(x_src, x_dst, stage, relation), theirs_gin((x_src, x_dst), edge_index), atol=1e-5)
    # Gradients flow through the precomputed-transpose product.
    x_src.requires_grad_(True)
    ours(x_src, x_dst, stage, relation).sum().backward()
    assert x_src.grad[5].abs().sum() == 0 and x_src.grad[6].abs().sum() > 0  # node 5 sends nothing


@pytest.mark.parametrize("name", ["gin_cp", "sage_cp", "gat_cp", "sage_embs"])
def test_last_layer_computes_only_the_decoded_nodes(planted, name):
    """GNN.forward computes the last layer for the batch's own nodes only: the same logits (bytes)
    as decoding the full embeddings, and their gradients up to rounding (weight gradients sum
    over fewer rows)."""
    graph, split, stages = planted
    pairs = eval_pairs(graph, split, "valid")
    sources, targets = torch.as_tensor(pairs.sources[:300]), torch.as_tensor(pairs.targets[:300])
    assert len(torch.unique(targets)) < stages["train"].num_nodes["target"]  # some nodes are skipped
    torch.manual_seed(0)
    model = build_model(name, stages["train"], hidden=16)
    restricted = model(stages["train"], sources, targets)
    restricted.sum().backward()
    restricted_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    full = model.decode(model.encode(stages["train"]), sources, targets)
    full.sum().backward()
    assert torch.equal(restricted, full)
    for restricted_grad, parameter in zip(restricted_grads, model.parameters(), strict=True):
        torch.testing.assert_close(restricted_grad, parameter.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(
    not backend.onednn(), reason="this torch has no oneDNN (mkldnn) CPU kernels, or the reference backend is forced"
)
@pytest.mark.parametrize("name", ["gin_cp", "gat_cp", "mlp"])
def test_onednn_meets_the_same_shapes_in_every_batch(planted, monkeypatch, name):
    """oneDNN keeps a compiled kernel per shape for good: a training step of two different batches,
    with the layers swapped as training swaps them, must hand it the same shapes (the batch's own
    rows go to torch's kernels)."""
    graph, split, stages = planted
    seen: list[set] = []
    original = backend._product

    def spy(x, weight, bias):
        seen[-1].add((tuple(x.shape), tuple(weight.shape)))
        return original(x, weight, bias)

    monkeypatch.setattr(backend, "_product", spy)
    torch.manual_seed(0)
    model = accelerated(build_model(name, stages["train"], hidden=16), stages.values())
    pairs = eval_pairs(graph, split, "valid")
    for batch in (slice(0, 200), slice(200, 290)):
        seen.append(set())
        sources, targets = torch.as_tensor(pairs.sources[batch]), torch.as_tensor(pairs.targets[batch])
        model(stages["train"], sources, targets).sum().backward()
    assert len(torch.unique(torch.as_tensor(pairs.sources[:200]))) != len(
        torch.unique(torch.as_tensor(pairs.sources[200:290]))
    )
    assert seen[0] == seen[1] and (name == "mlp" or seen[0])  # the GNNs' projection and first layer use it
