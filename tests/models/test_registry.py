"""The model registry (``motive/models/__init__.py``): every built-in passes the shared model
checks of ``motive.testing`` and learns a planted signal; unknown names, bad arguments and cold
splits for transductive models are refused with one line."""

import numpy as np
import pytest

from motive import splits, testing
from motive.errors import MotiveError
from motive.evaluation import metrics
from motive.evaluation.evaluator import eval_pairs
from motive.models import MODELS, REGISTRY, LinkModel, StageGraph, build_model, register_model
from motive.models.network import KINDS as NETWORK_KINDS
from motive.testing import parametrize_with_checks
from motive.training.config import TrainConfig
from motive.training.loop import fit


@parametrize_with_checks(MODELS)
def test_every_built_in_model_passes_the_shared_checks(name, check):
    check(name)


@pytest.fixture(scope="module")
def planted():
    """A small synthetic graph whose profiles and structures carry the latent that drives edges."""
    return testing.planted("random")


def config(model, **overrides):
    values = dict(data="unused", model=model, epochs=30, patience=30, batch_size=256, lr=5e-3, monitor="auroc")
    values.update(overrides)
    return TrainConfig(**values)


@pytest.mark.parametrize("name", MODELS)
def test_every_model_learns_the_planted_signal(planted, name):
    pairs = eval_pairs(planted.graph, planted.split, "test")
    trained = fit(config(name), planted)
    scores = trained.model.score(planted.stages["test"], pairs.sources, pairs.targets)
    assert scores.shape == (len(pairs.sources),) and np.isfinite(scores).all()
    auroc = metrics.auroc(scores, pairs.labels)
    assert auroc > 0.6, f"{name} did not learn the planted signal (test AUROC {auroc:.3f})"
    if trained.model.trainable:
        assert trained.history[-1]["train_loss"] < trained.history[0]["train_loss"]


@pytest.mark.parametrize(
    ("name", "split_name"),
    [(m, s) for m in MODELS for s in ("cold_source", "cold_target", "cold_both") if REGISTRY[m].refuses(s)],
)
def test_models_refuse_the_cold_splits_their_registry_entry_names(planted, name, split_name):
    graph = planted.graph
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
    with pytest.raises(MotiveError, match=f"model '{name}' cannot run on a {split_name} split"):
        build_model(name, StageGraph.build(graph, split, "train"))


def test_unknown_model_and_kwargs_fail_loudly(planted):
    stages = planted.stages
    with pytest.raises(MotiveError, match="unknown model 'gcn'"):
        build_model("gcn", stages["train"])
    with pytest.raises(MotiveError, match="model 'bilinear'.*hidden"):
        build_model("bilinear", stages["train"], hidden=8)


def test_the_registry_refuses_cold_splits_exactly_for_models_without_unseen_node_representations(planted):
    for name in MODELS:
        model = build_model(name, planted.stages["train"])
        refuses = REGISTRY[name].refuses("cold_source") is not None
        # path heuristics: nothing visible reaches a held-out node (tests/models/test_network.py shows it)
        path_refuses = name in NETWORK_KINDS and "cold_source" in NETWORK_KINDS[name][1]
        assert refuses == (model.transductive or name == "shortest_path" or path_refuses), name


def test_a_bug_inside_a_model_constructor_is_not_reported_as_a_bad_argument(planted):
    class Buggy(LinkModel):
        def __init__(self, stage, hidden: int = 8):
            super().__init__()
            len(None)  # a TypeError of the model's own making

    register_model("test_buggy", Buggy)
    try:
        with pytest.raises(TypeError, match="NoneType"):
            build_model("test_buggy", planted.stages["train"])
        with pytest.raises(MotiveError, match="unexpected keyword argument 'hiden'; its arguments: hidden"):
            build_model("test_buggy", planted.stages["train"], hiden=3)
    finally:
        REGISTRY.pop("test_buggy")
