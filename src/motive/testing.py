"""The checks every model must pass, built-in or plugin, for a plugin author to import (as
scikit-learn's ``parametrize_with_checks`` or PyKEEN's test cases)::

    # tests/test_two_tower.py
    import my_models  # registers "two_tower"
    from motive.testing import parametrize_with_checks

    @parametrize_with_checks(["two_tower"])
    def test_model_contract(name, check):
        check(name)

or, without pytest, ``motive.testing.check_model("two_tower")``. Each check trains the model for a
few epochs on a small synthetic graph whose features carry the signal (made once per process) and
asserts one property: shapes and dtypes; the same numbers from the same seed on CPU; a pair scored
alone, in a batch and in the full matrix alike (``decode_matrix`` agrees with ``decode``); scores
that depend only on what the stage may see; and a model without representations for unseen nodes
refusing the cold splits while every other model scores them. The built-in models' tests run these.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable

import numpy as np

from motive import splits
from motive.data import synth
from motive.data.graph import Graph
from motive.data.views import aligned
from motive.errors import MotiveError
from motive.evaluation.evaluator import eval_pairs
from motive.models import REGISTRY, LinkModel, StageGraph, build_model
from motive.models import check_model as refuse_unknown
from motive.names import STAGES
from motive.training.config import TrainConfig
from motive.training.loop import fit
from motive.training.prepare import Prepared
from motive.training.runs import accelerated

# Learned models score a pair by ``decode`` (one row at a time) or ``decode_matrix`` (a matrix
# product); the two round differently in float32, so they agree to this tolerance (full_ranking.py).
LEARNED_TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


@functools.lru_cache(maxsize=8)
def planted(split_name: str = "random") -> Prepared:
    """A small synthetic graph whose features carry the latent that drives its edges (signal 1.0),
    split ``split_name`` (seed 0), with all three stage graphs; compounds carry the structure view
    too, so multimodal models and structure baselines are checked as well. Its stages show side
    edges (``TrainConfig.side_edges``: every same-type edge between nodes a stage may see, the most
    a stage can show), so path models score the cold splits too. Made once per process."""
    config = synth.SynthConfig(scale=0.05, seed=4, signal=1.0, source_dim=32, target_dim=24, signal_view="both")
    graphs, structure = synth.generate_with_views(config)
    graph = graphs["st_expanded"]
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
    views = {"source": {"structure": aligned(structure, graph.sources.keys)}, "target": {}}
    stages = {stage: StageGraph.build(graph, split, stage, views, side_edges=True) for stage in STAGES}
    return Prepared(graph, graph.content_hash(), split, stages)


def trained(name: str, split_name: str = "random", epochs: int = 2, **model_kwargs):
    """Model ``name`` trained for ``epochs`` epochs (seed 0) on ``planted(split_name)``."""
    prepared = planted(split_name)
    config = TrainConfig(
        data="unused",
        split=split_name,
        model=name,
        model_kwargs=model_kwargs,
        epochs=epochs,
        patience=epochs,
        batch_size=256,
        lr=5e-3,
        monitor="auroc",
        hits_k=5,
        side_edges=True,
    )
    return fit(config, prepared).model


def check_shapes_and_dtypes(name: str, **model_kwargs) -> None:
    """``score`` gives one finite float per pair; ``score_blocks`` one row per query and one column
    per candidate; a learned model's ``encode`` one float row per node of each type."""
    prepared = planted()
    model = trained(name, **model_kwargs)
    pairs = eval_pairs(prepared.graph, prepared.split, "test")
    scores = model.score(prepared.stages["test"], pairs.sources, pairs.targets)
    assert isinstance(scores, np.ndarray) and scores.dtype.kind == "f", f"{name}: score must return a float array"
    assert scores.shape == (len(pairs.sources),), f"{name}: score returned shape {scores.shape}"
    assert np.isfinite(scores).all(), f"{name}: score returned NaN or inf"
    queries, candidates = np.arange(5), np.arange(0, 30, 2)
    for start, block in model.score_blocks(prepared.stages["test"], "source", queries, candidates, block=2):
        assert block.shape == (min(2, len(queries) - start), len(candidates)), f"{name}: block shape {block.shape}"
    if model.trainable and type(model).encode is not LinkModel.encode:  # an embedding model
        embeddings = model.encode(prepared.stages["test"])
        for side in ("source", "target"):
            rows = prepared.stages["test"].num_nodes[side]
            assert embeddings[side].shape[0] == rows, f"{name}: encode gave {embeddings[side].shape[0]} {side} rows"
            assert embeddings[side].is_floating_point(), f"{name}: {side} embeddings are not floating point"


def check_cpu_determinism(name: str, **model_kwargs) -> None:
    """The same seed trains to bit-identical scores on CPU."""
    prepared = planted()
    pairs = eval_pairs(prepared.graph, prepared.split, "test")
    first, second = (
        trained(name, **model_kwargs).score(prepared.stages["test"], pairs.sources, pairs.targets) for _ in range(2)
    )
    assert np.array_equal(first, second), f"{name}: two runs with seed 0 gave different scores on CPU"


def check_pair_scores_agree(name: str, **model_kwargs) -> None:
    """A pair scores the same alone, in a batch, in blocks and in the full matrix, from either
    side: bit-equal for heuristics (exact ties), within ``LEARNED_TOLERANCE`` for learned models."""
    prepared = planted()
    model = trained(name, **model_kwargs)
    stage = prepared.stages["test"]
    queries, candidates = np.array([0, 3, 5, 7, 9]), np.arange(0, 40, 3)
    for side in ("source", "target"):
        matrix = np.concatenate([block for _, block in model.score_blocks(stage, side, queries, candidates, block=2)])
        whole = np.concatenate([block for _, block in model.score_blocks(stage, side, queries, candidates)])
        rows, cols = np.repeat(queries, len(candidates)), np.tile(candidates, len(queries))
        sources, targets = (rows, cols) if side == "source" else (cols, rows)
        batch = model.score(stage, sources, targets)
        alone = np.array([model.score(stage, sources[i : i + 1], targets[i : i + 1])[0] for i in range(len(sources))])
        for scores in (batch, alone, whole.ravel()):
            if model.trainable:
                np.testing.assert_allclose(matrix.ravel(), scores, **LEARNED_TOLERANCE, err_msg=f"{name}, {side}")
            else:
                assert np.array_equal(matrix.ravel(), scores), f"{name}: equal evidence must give bit-equal scores"


def _relabelled(graph: Graph, split: splits.Split, stage: str) -> Graph:
    """The graph with the partners of every ST edge the stage may not see shuffled among
    themselves: the same stage graph, other labels behind it."""
    hidden = np.flatnonzero(split.subsets["st"] == stage)
    other = copy.deepcopy(graph)
    edges = other.edges["st"]
    column = edges.columns.get_loc("target")
    edges.iloc[hidden, column] = np.roll(edges["target"].to_numpy()[hidden], 1)
    return other


def _rebuilt(name: str, model, stages: dict[str, StageGraph], **model_kwargs):
    """A new instance of ``model`` with its weights and nothing else, as ``motive evaluate`` loads
    a run (its dense layers on the backend's path for the stages' node counts)."""
    copy_ = build_model(name, stages["train"], **model_kwargs)
    if model.trainable:
        copy_.load_state_dict(model.state_dict())
        accelerated(copy_, stages.values())
    return copy_


def check_reads_only_visible_edges(name: str, **model_kwargs) -> None:
    """A stage's scores depend only on the weights and the stage graph given: they equal those of
    a new instance with the same weights whatever was scored before (a model that kept the
    embeddings of another stage would show one stage's edges to another), and they stay the same
    when the held-out test edges of a cold_source split are relabelled."""
    split_name = "random" if REGISTRY[name].refuses("cold_source") else "cold_source"
    prepared = planted(split_name)
    stages = prepared.stages
    model = trained(name, split_name, **model_kwargs)
    pairs = eval_pairs(prepared.graph, prepared.split, "test")
    for first, then in (("test", "valid"), ("valid", "test"), ("train", "test")):
        used = copy.deepcopy(model)
        used.score(stages[first], pairs.sources, pairs.targets)
        after = used.score(stages[then], pairs.sources, pairs.targets)
        reference = _rebuilt(name, model, stages, **model_kwargs)
        expected = reference.score(stages[then], pairs.sources, pairs.targets)
        assert np.array_equal(after, expected), (
            f"{name}: {then} scores differ from a new instance with the same weights after scoring the {first} stage"
        )
    views = {
        t: {name: (view.numpy(), stages["test"].masks[t][name].numpy()) for name, view in named.items()}
        for t, named in stages["test"].views.items()
    }
    relabelled = _relabelled(prepared.graph, prepared.split, "test")
    relabelled = StageGraph.build(relabelled, prepared.split, "test", views, side_edges=True)
    reference = _rebuilt(name, model, stages, **model_kwargs)
    assert np.array_equal(
        reference.score(relabelled, pairs.sources, pairs.targets),
        reference.score(stages["test"], pairs.sources, pairs.targets),
    ), f"{name}: scores changed with edges the stage may not see"


def check_cold_splits(name: str, **model_kwargs) -> None:
    """A model that refuses a cold split (no representation for unseen nodes: ``transductive``)
    is refused there with one line; any other scores the held-out nodes with finite values."""
    for split_name in ("cold_source", "cold_target"):
        refusal = REGISTRY[name].refuses(split_name)
        prepared = planted(split_name)
        if refusal:
            try:
                build_model(name, prepared.stages["train"], **model_kwargs)
            except MotiveError as error:
                assert f"cannot run on a {split_name} split" in str(error), f"{name}: refusal says {error}"
            else:
                raise AssertionError(f"{name} refuses {split_name} in its registry entry but was built for it")
            continue
        model = trained(name, split_name, **model_kwargs)
        assert not getattr(model, "transductive", False), f"{name} is transductive but does not refuse {split_name}"
        pairs = eval_pairs(prepared.graph, prepared.split, "test")
        scores = model.score(prepared.stages["test"], pairs.sources, pairs.targets)
        assert np.isfinite(scores).all(), f"{name}: non-finite scores for held-out nodes of {split_name}"


CHECKS: tuple[Callable[..., None], ...] = (
    check_shapes_and_dtypes,
    check_cpu_determinism,
    check_pair_scores_agree,
    check_reads_only_visible_edges,
    check_cold_splits,
)


def check_model(name: str, **model_kwargs) -> None:
    """Run every check on registered model ``name`` (``model_kwargs``: its keyword arguments);
    the first failure raises ``AssertionError`` naming it."""
    refuse_unknown(name, "random")
    for check in CHECKS:
        check(name, **model_kwargs)


def parametrize_with_checks(names: Iterable[str]):
    """A pytest decorator: the test runs once per (model name, check), with arguments
    ``name`` and ``check``, ids like ``gin_cp-check_cpu_determinism``."""
    import pytest

    cases = [(name, check) for name in names for check in CHECKS]
    return pytest.mark.parametrize("name, check", cases, ids=[f"{name}-{check.__name__}" for name, check in cases])
