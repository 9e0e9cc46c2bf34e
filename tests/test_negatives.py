import numpy as np
import pytest
from scipy import stats

from motive import splits
from motive.data import synth
from motive.errors import MotiveError
from motive.splits.files import load_split, same_split, save_split
from motive.splits.negatives import NegativeSampler, is_member, positive_keys, sample_pairs
from tests.graphs import random_graph


def test_sample_pairs_excludes_positives_and_duplicates():
    rng = np.random.default_rng(0)
    heads, tails = np.arange(10), np.arange(20)
    forbidden = np.sort(rng.choice(200, 50, replace=False))
    s, t = sample_pairs(heads, tails, 140, forbidden, 20, rng)  # 150 allowed: forces the exact path
    keys = s * 20 + t
    assert len(np.unique(keys)) == 140 and not is_member(keys, forbidden).any()
    s, t = sample_pairs(heads, tails, 30, forbidden, 20, rng)  # rejection path
    assert len(np.unique(s * 20 + t)) == 30 and not is_member(s * 20 + t, forbidden).any()
    with pytest.raises(MotiveError, match="only 150 allowed negative pairs for 151 requested"):
        sample_pairs(heads, tails, 151, forbidden, 20, rng)
    assert len(sample_pairs(heads, tails, 151, forbidden, 20, rng, strict=False)[0]) == 150


def test_negatives_are_uniform_over_node_ids():
    """Chi-square goodness of fit of negative heads and tails against the uniform distribution."""
    rng = np.random.default_rng(1)
    n_sources, n_targets = 400, 300
    forbidden = np.sort(rng.choice(n_sources * n_targets, 2000, replace=False))
    heads_count = np.zeros(n_sources)
    tails_count = np.zeros(n_targets)
    for _ in range(200):
        s, t = sample_pairs(np.arange(n_sources), np.arange(n_targets), 500, forbidden, n_targets, rng)
        heads_count += np.bincount(s, minlength=n_sources)
        tails_count += np.bincount(t, minlength=n_targets)
    # Expected counts account for the forbidden pairs of each node.
    allowed_per_source = n_targets - np.bincount(forbidden // n_targets, minlength=n_sources)
    allowed_per_target = n_sources - np.bincount(forbidden % n_targets, minlength=n_targets)
    for observed, allowed in ((heads_count, allowed_per_source), (tails_count, allowed_per_target)):
        expected = observed.sum() * allowed / allowed.sum()
        assert stats.chisquare(observed, expected).pvalue > 0.001
        assert abs(np.average(np.arange(len(observed)), weights=observed) / (len(observed) - 1) - 0.5) < 0.01


def reference_sampler(pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """The reference code's draw: ``randperm(n) % pool_size`` indexes the candidate pool."""
    return pool[rng.permutation(n) % len(pool)]


def test_reference_sampler_is_biased_and_ours_is_not():
    rng = np.random.default_rng(2)
    pool = np.arange(10_000)  # candidate sources in id order, as the reference builds them
    n = 5_000  # fewer draws than candidates: the reference can only ever reach the first n
    reference = reference_sampler(pool, n, rng)
    ours, _ = sample_pairs(pool, np.arange(5), n, np.zeros(0, np.int64), 5, rng)
    reference_quantile = (reference / (len(pool) - 1)).mean()
    our_quantile = (ours / (len(pool) - 1)).mean()
    assert reference_quantile == pytest.approx(0.25, abs=0.01)  # the defect the official notes measured
    assert our_quantile == pytest.approx(0.5, abs=0.02)
    assert reference.max() < n <= ours.max()


@pytest.mark.parametrize("split_name", splits.SPLITS)
@pytest.mark.parametrize("mode", ["batch", "global"])
def test_sampler_pools_respect_the_stage(split_name, mode):
    graph = random_graph(7, 300, 300, 4000, 200, 200)
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0, negative_mode=mode))
    rng = np.random.default_rng(0)
    positives = positive_keys(graph)
    for k, stage in enumerate(splits.STAGES):
        sampler = NegativeSampler(graph, split, stage)
        s, t = split.supervision(graph, stage)
        batch = rng.choice(len(s), min(64, len(s)), replace=False)
        neg_s, neg_t = sampler.sample(s[batch], t[batch], 1 if k == 0 else 10, rng)
        assert len(neg_s) == len(batch) * (1 if k == 0 else 10)
        assert not is_member(neg_s * len(graph.targets) + neg_t, positives).any()
        for side, nodes, batch_nodes in (("source", neg_s, s[batch]), ("target", neg_t, t[batch])):
            if side in splits.COLD_SIDES[split_name]:
                assert (split.node_stage[side][nodes] == k).all()
                if mode == "batch":  # Algorithm 1: the cold side comes from the batch itself
                    assert np.isin(nodes, batch_nodes).all()
            else:
                assert (split.node_stage[side][nodes] <= k).all()
        if split_name == "random" and mode == "batch":
            assert np.isin(neg_s, s[batch]).all() and np.isin(neg_t, t[batch]).all()


def test_eval_negatives_are_stored_once_and_reproducible():
    graph = random_graph(8, 300, 300, 4000, 0, 0)
    first = splits.make_split(graph, splits.SplitConfig("cold_source", 3))
    second = splits.make_split(graph, splits.SplitConfig("cold_source", 3))
    other = splits.make_split(graph, splits.SplitConfig("cold_source", 4))
    assert first.negatives["test"].equals(second.negatives["test"])
    assert not first.negatives["test"].equals(other.negatives["test"])
    assert len(first.negatives["valid"]) == 10 * (first.subsets["st"] == "valid").sum()


@pytest.mark.parametrize("split_name", ["random", "cold_source", "cold_target"])
def test_bpr_negatives_keep_the_query_node_and_are_never_positives(split_name):
    graph = synth.generate(synth.SynthConfig(scale=0.05, seed=2))["st_expanded"]
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
    sampler = NegativeSampler(graph, split, "train")
    s, t = split.supervision(graph, "train")
    side = "target" if split_name == "cold_target" else "source"
    neg_s, neg_t, kept = sampler.corrupt(s, t, side, np.random.default_rng(0))
    assert kept.mean() > 0.95 and len(neg_s) == kept.sum()
    assert np.array_equal(neg_s if side == "source" else neg_t, (s if side == "source" else t)[kept])
    assert not is_member(neg_s * len(graph.targets) + neg_t, positive_keys(graph)).any()
    heads, tails = sampler.pools(s, t)
    assert np.isin(neg_t, tails).all() and np.isin(neg_s, heads).all()


@pytest.fixture(scope="module")
def graphs_by_scale():
    """Synthetic graphs from tiny (36 test compounds, hubs hitting half of them) to MOTIVE size."""
    return {scale: synth.generate(synth.SynthConfig(scale=scale, seed=3))["st_expanded"] for scale in (0.05, 0.2, 1.0)}


@pytest.mark.parametrize("scale", [0.05, 0.2, 1.0])
@pytest.mark.parametrize("split_name", ["random", "cold_source", "cold_target"])
def test_degree_matched_negatives_leave_popularity_at_chance_at_every_size(graphs_by_scale, scale, split_name):
    from motive.evaluation import metrics
    from motive.models import StageGraph, build_model

    graph = graphs_by_scale[scale]
    split = splits.make_split(graph, splits.SplitConfig(split_name, 0))
    stage = StageGraph.build(graph, split, "test")
    popularity = build_model("popularity", stage)
    s, t = split.supervision(graph, "test")
    auroc = {}
    for key in ("test", "test_degree"):
        negatives = split.negatives[key]
        sources, targets = np.r_[s, negatives["source"]], np.r_[t, negatives["target"]]
        labels = np.r_[np.ones(len(s)), np.zeros(len(negatives))]
        auroc[key] = metrics.auroc(popularity.score(stage, sources, targets), labels)
    assert auroc["test"] > 0.65  # uniform negatives: degree alone looks like skill
    assert abs(auroc["test_degree"] - 0.5) < 0.03
    if scale == 1.0:
        assert len(split.negatives["test_degree"]) == 10 * len(s)  # 1:10 kept where the graph allows it
    else:
        assert len(split.negatives["test_degree"]) > 7 * len(s)  # a small graph's hubs keep fewer


@pytest.mark.parametrize("scale", [0.2, 1.0])
def test_degree_negatives_have_their_positives_degrees(graphs_by_scale, scale):
    from motive.splits.negatives import candidate_degrees

    graph = graphs_by_scale[scale]
    split = splits.make_split(graph, splits.SplitConfig("cold_source", 1))
    degree = candidate_degrees(graph, split, "test", "target")
    s, t = split.supervision(graph, "test")
    negatives = split.negatives["test_degree"]
    positive_counts = np.bincount(degree[t], minlength=degree.max() + 1) * 10
    negative_counts = np.bincount(degree[negatives["target"]], minlength=degree.max() + 1)
    matched = np.minimum(positive_counts, negative_counts).sum() / positive_counts.sum()
    assert matched > (0.9 if scale < 1 else 0.97)  # the same degree, not merely the same average


@pytest.mark.parametrize("split_name", ["random", "cold_source", "cold_target", "cold_both"])
def test_degree_negatives_are_clean_stored_beside_the_uniform_ones_and_reproducible(tmp_path, split_name):
    from motive.splits import audit
    from motive.splits.negatives import draw_eval_negatives

    graph = synth.generate(synth.SynthConfig(scale=0.1, seed=2))["st_expanded"]
    split = splits.make_split(graph, splits.SplitConfig(split_name, 3))
    assert audit.audit(graph, split).passed  # the audit checks every stored set, degree ones included
    for stage in ("valid", "test"):
        degree = split.negatives[f"{stage}_degree"]
        keys = degree["source"].to_numpy() * len(graph.targets) + degree["target"].to_numpy()
        assert len(degree) and len(np.unique(keys)) == len(keys) and not is_member(keys, positive_keys(graph)).any()
        assert split.negatives[stage].equals(draw_eval_negatives(graph, split, stage)[0])  # uniform ones unchanged
    save_split(split, graph, tmp_path / "split")
    assert (tmp_path / "split" / "negatives_test_degree.parquet").is_file()
    assert same_split(load_split(tmp_path / "split", graph), split)
    for stage in ("valid", "test"):  # a split saved before degree negatives existed gets the same ones
        (tmp_path / "split" / f"negatives_{stage}_degree.parquet").unlink()
    assert same_split(load_split(tmp_path / "split", graph), split)
