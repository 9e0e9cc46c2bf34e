"""Shared checks for every registered model, plus model-specific ones."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.nn import GATv2Conv, GINConv, SAGEConv

from motive import metrics, splits, synth
from motive.errors import MotiveError
from motive.graph import Graph, NodeTable
from motive.models import MODELS, StageGraph, attention, build_model
from motive.models.attention import AttentionIndex, GATv2
from motive.models.gnn import GIN, SAGE
from motive.train import TrainConfig, eval_pairs, fit


@pytest.fixture(scope="module")
def planted():
    """A small synthetic graph whose features carry the latent that drives edges (signal 1.0)."""
    graph = synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0, source_dim=32, target_dim=24))[
        "st_expanded"
    ]
    split = splits.make_split(graph, splits.SplitConfig("random", 0))
    stages = {stage: StageGraph.build(graph, split, stage) for stage in splits.STAGES}
    return graph, split, stages


def config(model, **overrides):
    values = dict(data="unused", model=model, epochs=30, patience=30, batch_size=256, lr=5e-3, monitor="auroc")
    values.update(overrides)
    return TrainConfig(**values)


@pytest.mark.parametrize("name", MODELS)
def test_every_model_scores_deterministically_and_learns(planted, name):
    graph, split, stages = planted
    sources, targets, labels = eval_pairs(graph, split, "test")
    model, history, _ = fit(config(name), graph, split, stages)
    scores = model.score(stages["test"], sources, targets)
    assert scores.shape == (len(sources),) and np.isfinite(scores).all()
    again, _, _ = fit(config(name), graph, split, stages)
    assert np.array_equal(scores, again.score(stages["test"], sources, targets))  # CPU determinism
    auroc = metrics.auroc(scores, labels)
    assert auroc > 0.6, f"{name} did not learn the planted signal (test AUROC {auroc:.3f})"
    if model.trainable:
        assert history[-1]["train_loss"] < history[0]["train_loss"]


# Learned models score a pair by ``decode`` (one row at a time) or ``decode_matrix`` (a matrix
# product); the two round differently in float32, so they agree to this tolerance (metrics.py).
LEARNED_TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("query_side", ["source", "target"])
def test_a_pair_scores_the_same_alone_in_a_batch_and_in_the_full_matrix(planted, name, query_side):
    graph, split, stages = planted
    model, _, _ = fit(config(name, epochs=2), graph, split, stages)
    queries, candidates = np.array([0, 3, 5, 7, 9]), np.arange(0, 40, 3)
    blocks = list(model.score_blocks(stages["test"], query_side, queries, candidates, block=2))
    assert [start for start, _ in blocks] == [0, 2, 4]
    matrix = np.concatenate([block for _, block in blocks])
    whole = np.concatenate([block for _, block in model.score_blocks(stages["test"], query_side, queries, candidates)])
    rows, cols = np.repeat(queries, len(candidates)), np.tile(candidates, len(queries))
    sources, targets = (rows, cols) if query_side == "source" else (cols, rows)
    batch = model.score(stages["test"], sources, targets)
    alone = np.array(
        [model.score(stages["test"], sources[i : i + 1], targets[i : i + 1])[0] for i in range(len(sources))]
    )
    if model.trainable:
        for scores in (batch, alone, whole.ravel()):
            np.testing.assert_allclose(matrix.ravel(), scores, **LEARNED_TOLERANCE)
    else:  # heuristics: equal evidence gives bit-equal scores, whatever the pair is scored with
        assert (
            np.array_equal(matrix.ravel(), batch)
            and np.array_equal(batch, alone)
            and np.array_equal(batch, whole.ravel())
        )


@pytest.mark.parametrize("name", [m for m in MODELS if m.endswith("_embs")] + ["shortest_path"])
@pytest.mark.parametrize("split_name", ["cold_source", "cold_target", "cold_both"])
def test_transductive_models_refuse_cold_splits(planted, name, split_name):
    graph, _, _ = planted
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
    with pytest.raises(MotiveError, match=f"model '{name}' cannot run on a {split_name} split"):
        build_model(name, StageGraph.build(graph, split, "train"))


def test_unknown_model_and_kwargs_fail_loudly(planted):
    _, _, stages = planted
    with pytest.raises(MotiveError, match="unknown model 'gcn'"):
        build_model("gcn", stages["train"])
    with pytest.raises(MotiveError, match="model 'bilinear'.*hidden"):
        build_model("bilinear", stages["train"], hidden=8)


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


@pytest.mark.parametrize("chunk", [1 << 19, 48])  # one chunk, and many chunks of a few edges
@pytest.mark.parametrize("heads", [1, 2, 3])
def test_gatv2_equals_pyg_values_and_gradients(monkeypatch, chunk, heads):
    monkeypatch.setattr(attention, "CHUNK_ELEMENTS", chunk)
    torch.manual_seed(heads)
    num_src, num_dst, channels = 40, 30, 8
    src, dst = torch.randint(0, num_src, (300,)), torch.randint(0, num_dst, (300,))
    dst[dst == 7] = 8  # node 7 receives nothing: its output is the bias alone
    theirs = GATv2Conv((6, 5), channels, heads=heads, concat=False, add_self_loops=False)
    ours = GATv2(6, 5, channels, heads)
    assert {name for name, _ in ours.named_parameters()} == {name for name, _ in theirs.named_parameters()}
    ours.load_state_dict(theirs.state_dict())
    x_src, x_dst = torch.randn(num_src, 6, dtype=torch.float64), torch.randn(num_dst, 5, dtype=torch.float64)
    ours.double(), theirs.double()
    index = AttentionIndex.from_edges(src.numpy(), dst.numpy(), num_src, num_dst)
    inputs = [x.clone().requires_grad_(True) for x in (x_src, x_dst, x_src, x_dst)]
    out_ours, out_theirs = ours(inputs[0], inputs[1], index), theirs((inputs[2], inputs[3]), torch.stack([src, dst]))
    torch.testing.assert_close(out_ours, out_theirs, rtol=1e-10, atol=1e-10)
    weights = torch.randn_like(out_ours)
    (out_ours * weights).sum().backward()
    (out_theirs * weights).sum().backward()
    torch.testing.assert_close(inputs[0].grad, inputs[2].grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(inputs[1].grad, inputs[3].grad, rtol=1e-10, atol=1e-10)
    for (name, mine), (_, pyg) in zip(sorted(ours.named_parameters()), sorted(theirs.named_parameters()), strict=True):
        torch.testing.assert_close(mine.grad, pyg.grad, rtol=1e-10, atol=1e-10, msg=name)


def test_gatv2_without_edges_returns_the_bias():
    layer = GATv2(4, 4, 3, 2)
    layer.bias.data = torch.tensor([1.0, 2.0, 3.0])
    index = AttentionIndex.from_edges(np.array([], np.int64), np.array([], np.int64), 5, 2)
    assert torch.equal(layer(torch.randn(5, 4), torch.randn(2, 4), index), torch.tensor([[1.0, 2.0, 3.0]] * 2))


def test_gat_skips_only_messages_that_no_decoded_pair_reads(planted):
    """GNN.forward limits the last attention layer to edges into the batch's nodes: same logits
    and gradients as decoding the full embeddings."""
    graph, split, stages = planted
    sources, targets, _ = eval_pairs(graph, split, "valid")
    sources, targets = torch.as_tensor(sources[:300]), torch.as_tensor(targets[:300])
    torch.manual_seed(0)
    model = build_model("gat_cp", stages["train"], hidden=16)
    restricted = model(stages["train"], sources, targets)
    restricted.sum().backward()
    restricted_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    full = model.decode(model.encode(stages["train"]), sources, targets)
    full.sum().backward()
    torch.testing.assert_close(restricted, full, rtol=1e-5, atol=1e-6)
    for restricted_grad, parameter in zip(restricted_grads, model.parameters(), strict=True):
        torch.testing.assert_close(restricted_grad, parameter.grad, rtol=1e-4, atol=1e-6)


def tiny_graph():
    sources = NodeTable(pd.Index(["A" * 14, "B" * 14, "C" * 14]), np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]]))
    targets = NodeTable(pd.Index(["G1", "G2", "G3"]), np.eye(3, 2))
    edges = {
        "st": pd.DataFrame({"source": [0, 2], "target": [0, 1]}),
        "tt": pd.DataFrame({"target_a": [1], "target_b": [2]}),
    }
    return Graph(sources, targets, edges)


def stage_with_all_edges(graph):
    s, t = graph.endpoints("st")
    a, b = graph.endpoints("tt")
    edges = {
        ("source", "binds", "target"): (s, t),
        ("target", "rev_binds", "source"): (t, s),
        ("target", "interacts", "target"): (np.r_[a, b], np.r_[b, a]),
    }
    x = {"source": torch.from_numpy(graph.sources.x), "target": torch.from_numpy(graph.targets.x)}
    return StageGraph.from_edges("test", "random", x, edges)


def test_shortest_path_hand_example():
    stage = stage_with_all_edges(tiny_graph())
    model = build_model("shortest_path", stage)
    # A-G1 direct (1); C-G3 via G2 (2); A-G2: A-G1 ... no path from G1 to G2 -> unreachable; B isolated.
    scores = model.score(stage, np.array([0, 2, 0, 1]), np.array([0, 2, 1, 0]))
    assert scores.tolist() == [-1.0, -2.0, -1e6, -1e6]


def test_knn_hand_example():
    stage = stage_with_all_edges(tiny_graph())
    model = build_model("knn", stage)
    # B is similar to A (known to hit G1) and unrelated to C (known to hit G2).
    scores = model.score(stage, np.array([1, 1, 1]), np.array([0, 1, 2]))
    assert scores[0] == pytest.approx(0.9 / np.hypot(0.9, 0.1))
    assert scores[1] == pytest.approx(0.1 / np.hypot(0.9, 0.1))
    assert scores[2] == -1.0  # G3 has no known compound
    # A known pair is never its own evidence: A-G1's only evidence is A itself.
    assert model.score(stage, np.array([0]), np.array([0]))[0] == -1.0
