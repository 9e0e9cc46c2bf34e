"""The evidence ranker (``motive/models/ranker.py``) and its features (``pair_features.py``): the
features equal brute-force loops over the stage's visible edges, a held-out side's own links never
enter, and no supervision edge reaches its own features or the scores of its stage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from motive import splits
from motive.data import synth
from motive.data.views import aligned
from motive.models import StageGraph, build_model, maxima
from motive.models.pair_features import FEATURES, NONE, features_for, pair_features

BINDS, SIMILAR, INTERACTS = (
    ("source", "binds", "target"),
    ("source", "similar", "source"),
    ("target", "interacts", "target"),
)


@pytest.fixture(scope="module")
def planted():
    graphs, structure = synth.generate_with_views(synth.SynthConfig(scale=0.03, seed=6))
    graph = graphs["st_expanded"]
    return graph, {"source": {"structure": aligned(structure, graph.sources.keys)}, "target": {}}


def _stage(planted, split_name: str, stage: str = "test", seed: int = 1):
    graph, views = planted
    split = splits.make_split(graph, splits.SplitConfig(split_name, seed))
    return graph, split, StageGraph.build(graph, split, stage, views, side_edges=True)


def _set(edges, node) -> set[int]:
    a, b = edges
    return set(b[a == node].tolist())


def brute_force(stage: StageGraph, name: str, c: int, g: int) -> float:
    """One feature of one pair, walked node by node from the module docstring."""
    known = stage.edges[BINDS]
    reverse = (known[1], known[0])
    genes_of = {x: _set(known, x) for x in range(stage.num_nodes["source"])}
    hitters_of = {y: _set(reverse, y) for y in range(stage.num_nodes["target"])}
    near, partners = _set(stage.edges[SIMILAR], c), _set(stage.edges[INTERACTS], g)

    def cosine(matrix, i, j):
        a, b = matrix[i].astype(np.float64), matrix[j].astype(np.float64)
        norms = np.linalg.norm(a) * np.linalg.norm(b)
        return float(a @ b / norms) if norms else 0.0

    def tanimoto(i, j):
        bits = stage.views["source"]["structure"].numpy().astype(bool)
        union = (bits[i] | bits[j]).sum()
        return float((bits[i] & bits[j]).sum() / union) if union else 0.0

    def best(values):
        return max(values, default=NONE)

    xs, xt = stage.x["source"].numpy(), stage.x["target"].numpy()
    gene_degree = {y: len(hitters_of[y]) + len(_set(stage.edges[INTERACTS], y)) for y in hitters_of}
    compound_degree = {x: len(genes_of[x]) + len(_set(stage.edges[SIMILAR], x)) for x in genes_of}
    interactor_hitters = set().union(*(hitters_of[y] for y in partners)) if partners else set()
    near_genes = set().union(*(genes_of[x] for x in near)) if near else set()
    interactions = stage.edges[INTERACTS]
    far = sum(len(_set(interactions, y) & _set(interactions, g)) for y in genes_of[c] if y != g)
    values = {
        "gene_paths": math.log1p(len(genes_of[c] & partners)),
        "gene_paths_ra": math.log1p(sum(1 / gene_degree[y] for y in sorted(genes_of[c] & partners))),
        "compound_paths": math.log1p(len(near & hitters_of[g])),
        "compound_paths_ra": math.log1p(sum(1 / compound_degree[x] for x in sorted(near & hitters_of[g]))),
        "three_hop": math.log1p(sum(len(genes_of[x] & partners) for x in near)),
        "gene_paths_far": math.log1p(far),
        "structure_sum": math.log1p(sum(tanimoto(c, x) ** 3 for x in hitters_of[g])),
        "compound_degree": math.log1p(len(genes_of[c])),
        "gene_degree": math.log1p(len(hitters_of[g])),
        "profile_near_compound": best(cosine(xs, c, x) for x in hitters_of[g]),
        "profile_near_gene": best(cosine(xt, g, y) for y in genes_of[c]),
        "structure_near_compound": best(tanimoto(c, x) for x in hitters_of[g]),
        "structure_near_interactor": best(tanimoto(c, x) for x in interactor_hitters),
        "profile_near_similar": best(cosine(xt, g, y) for y in near_genes),
    }
    return values[name]


@pytest.mark.parametrize("split_name", ["random", "cold_source", "cold_target", "cold_both"])
def test_features_equal_brute_force_loops(planted, split_name):
    graph, split, stage = _stage(planted, split_name)
    s, t = split.supervision(graph, "test")
    negatives = split.negatives["test"]
    sources, targets = np.r_[s[:25], negatives["source"][:25]], np.r_[t[:25], negatives["target"][:25]]
    names = list(FEATURES)
    found = pair_features(stage, sources, targets, names)
    for j, name in enumerate(names):
        expected = [brute_force(stage, name, c, g) for c, g in zip(sources.tolist(), targets.tolist(), strict=True)]
        np.testing.assert_allclose(found[:, j], expected, rtol=1e-5, atol=1e-6, err_msg=name)
    assert (found[:, names.index("gene_paths")] > 0).any() or split_name in ("cold_source", "cold_both")


def test_a_held_out_side_never_reads_its_own_links():
    """Each split keeps exactly the features whose sides it does not hold out; zero-shot keeps the
    paths and nearest partners that start and end on same-type edges."""
    assert features_for("random", True) == list(FEATURES)
    assert set(features_for("cold_target", True)) == {n for n, reads in FEATURES.items() if "target" not in reads}
    assert set(features_for("cold_source", True)) == {n for n, reads in FEATURES.items() if "source" not in reads}
    assert features_for("cold_both", True) == ["three_hop", "structure_near_interactor", "profile_near_similar"]
    assert "structure_near_compound" not in features_for("random", False)


@pytest.mark.parametrize("split_name", ["random", "cold_target"])
def test_a_supervision_edge_never_reaches_its_own_features(planted, split_name):
    """The training stage's features of its supervision pairs are the same with those edges
    removed from the graph altogether: a supervision edge is never its own evidence."""
    graph, split, stage = _stage(planted, split_name, "train")
    s, t = split.supervision(graph, "train")
    names = features_for(split_name, True)
    before = pair_features(stage, s, t, names)
    split.subsets["st"] = np.where(split.subsets["st"] == "train", "unused", split.subsets["st"])
    after_stage = StageGraph.build(graph, split, "train", planted[1], side_edges=True)
    assert np.array_equal(pair_features(after_stage, s, t, names), before)


@pytest.mark.parametrize("stage_name", ["valid", "test"])
def test_relabelling_a_stages_supervision_edges_leaves_its_scores_unchanged(planted, stage_name):
    """Shuffling the partners of every valid (test) supervision edge changes no valid (test) score
    of a ranker: its stage never shows them."""
    graph, split, stage = _stage(planted, "cold_source", stage_name)
    model = build_model("evidence_ranker", _stage(planted, "cold_source", "train")[2])
    pairs_s, pairs_t = split.supervision(graph, stage_name)
    before = model.score(stage, pairs_s, pairs_t)
    hidden = np.flatnonzero(split.subsets["st"] == stage_name)
    relabelled = graph.edges["st"].copy()
    column = relabelled.columns.get_loc("target")
    relabelled.iloc[hidden, column] = np.roll(relabelled["target"].to_numpy()[hidden], 7)
    shuffled = type(graph)(graph.sources, graph.targets, {**graph.edges, "st": relabelled})
    again = StageGraph.build(shuffled, split, stage_name, planted[1], side_edges=True)
    assert np.array_equal(model.score(again, pairs_s, pairs_t), before)


def test_nearest_partners_in_small_chunks_equal_one_pass(planted, monkeypatch):
    """``maxima.nearest`` and ``maxima.best_rows`` gather a little at a time: the same numbers."""
    from motive.models import pair_features as ranker_features

    graph, split, stage = _stage(planted, "random")
    s, t = split.supervision(graph, "test")
    names = [n for n in FEATURES if "near" in n]
    whole = ranker_features.feature_planes(stage, np.unique(s)[:20], np.unique(t), names)
    monkeypatch.setattr(maxima, "GATHERED", 7)
    assert np.array_equal(ranker_features.feature_planes(stage, np.unique(s)[:20], np.unique(t), names), whole)


@pytest.mark.parametrize("seed", range(4))
def test_run_maxima_equal_numpys_reduceat(seed):
    """The maxima of runs of rows, taken longest run first, are numpy's reduceat's: runs of one
    row, long runs, ties, infinities and a NaN (which a maximum passes on)."""
    rng = np.random.default_rng(seed)
    lengths = rng.choice([1, 1, 2, 3, 17], size=40)
    rows = rng.integers(-3, 3, size=(lengths.sum(), 6)).astype(np.float32)
    rows[rng.integers(len(rows)), rng.integers(6)] = np.inf
    rows[rng.integers(len(rows)), rng.integers(6)] = np.nan
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    expected = np.maximum.reduceat(rows, starts, axis=0)
    found = maxima.run_maxima(rows, starts)
    assert found.dtype == rows.dtype
    np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize("split_name", ["random", "cold_target"])
def test_pairs_on_their_own_equal_the_block_read_at_the_pairs(planted, split_name, monkeypatch):
    """Training reads each pair on its own (row-wise products, maxima over its own partners),
    ranking reads dense blocks: the same features, maxima and counts exactly, also when the pairs'
    partners are gathered a few at a time."""
    from motive.models import pair_features as ranker_features

    graph, split, stage = _stage(planted, split_name, "train")
    s, t = split.supervision(graph, "train")
    negatives = split.negatives["train"] if "train" in split.negatives else None
    if negatives is not None:
        s, t = np.r_[s, negatives["source"]], np.r_[t, negatives["target"]]
    names = features_for(split_name, True)
    planes = ranker_features.feature_planes(stage, np.unique(s), np.unique(t), names)
    expected = planes[:, np.searchsorted(np.unique(s), s), np.searchsorted(np.unique(t), t)].T
    found = pair_features(stage, s, t, names)
    np.testing.assert_allclose(found, expected, rtol=1e-6, atol=1e-7)
    exact = [j for j, name in enumerate(names) if not name.endswith(("_ra", "_sum"))]
    assert np.array_equal(found[:, exact].astype(np.float32), expected[:, exact])
    monkeypatch.setattr(maxima, "GATHERED", 5)
    assert np.array_equal(pair_features(stage, s, t, names), found)


def test_a_compound_without_structure_reads_tanimoto_zero(planted):
    """A compound given without structure bits (a new compound from its profile alone) has
    Tanimoto 0 to every compound: its structure features, read off without gathering, equal the
    brute-force walk, in the ranking's planes and pair by pair."""
    from motive.models import pair_features as ranker_features

    graph, split, stage = _stage(planted, "random")
    s, t = split.supervision(graph, "test")
    blank = np.unique(s)[:6]
    stage.views["source"]["structure"][blank] = 0
    names = [n for n in FEATURES if n.startswith("structure")]
    sources, targets = np.r_[blank, np.unique(s)[6:9]], np.unique(t)[:40]
    planes = ranker_features.feature_planes(stage, sources, targets, names)
    for j, name in enumerate(names):
        expected = [[brute_force(stage, name, c, g) for g in targets.tolist()] for c in sources.tolist()]
        np.testing.assert_allclose(planes[j], expected, rtol=1e-5, atol=1e-6, err_msg=name)
    assert (planes[names.index("structure_near_compound"), :6] == 0).any()
    pairs = pair_features(stage, np.repeat(sources, len(targets)), np.tile(targets, len(sources)), names)
    np.testing.assert_allclose(pairs.T.reshape(planes.shape), planes, rtol=1e-6, atol=1e-7)


def test_a_ranking_reads_the_monitors_kept_queries_among_new_ones(planted):
    """The valid stage keeps its planes a query at a time: a ranking of every query after a
    monitor that ranked some of them gives the scores of a ranking that kept nothing."""
    from motive.evaluation.evaluator import ranking_evaluation

    graph, split, stage = _stage(planted, "random", "valid")
    _, _, fresh = _stage(planted, "random", "valid")
    model = build_model("evidence_ranker", stage)
    ranking_evaluation(graph, split, stage, model, "random", queries=7)
    kept = [value[1] for key, value in stage.cache["evidence-ranker-planes"].items() if key != "bytes"]
    assert sum(len(rows) for rows in kept) == 7
    whole = ranking_evaluation(graph, split, stage, model, "random")
    expected = ranking_evaluation(graph, split, fresh, model, "random")
    assert whole[["query", "partner"]].equals(expected[["query", "partner"]])
    np.testing.assert_allclose(whole["score"], expected["score"], rtol=1e-6)


def test_training_reads_kept_pair_rows_as_fresh_ones(planted, monkeypatch):
    """Training keeps each pair's feature row (its positives come back every epoch) up to
    ``KEPT_PAIRS`` rows: every batch, repeated pairs and pairs past the limit included, reads
    the rows ``pair_features`` gives on its own (to rounding: a row computed beside other pairs)."""
    from motive.models import ranker

    graph, split, stage = _stage(planted, "random", "train")
    s, t = split.supervision(graph, "train")
    names = features_for("random", True)
    monkeypatch.setattr(ranker, "KEPT_PAIRS", 50)
    rng = np.random.default_rng(0)
    for _ in range(3):
        pick = rng.choice(len(s), 40)  # repeats inside a batch and across batches
        found = ranker._kept_pairs(stage, s[pick], t[pick], names)  # a wrong row would be far off
        np.testing.assert_allclose(found, pair_features(stage, s[pick], t[pick], names), rtol=1e-6, atol=1e-7)
    kept = stage.cache["evidence-ranker-pairs"][",".join(names)]
    assert kept.count == 50 and len(kept.index) <= 50
