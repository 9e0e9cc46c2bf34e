import numpy as np
import pytest

from motive.data import synth
from motive.data.stats import degrees, table2


def test_scale_one_matches_motive_table2_exactly():
    graphs = synth.generate(synth.SynthConfig(scale=1, seed=0))
    stats = table2(graphs).set_index("graph_type")
    expected = {
        "bipartite": (2961, 4505, 24798, 0, 0),
        "s_expanded": (3632, 4505, 24798, 75330, 0),
        "t_expanded": (2961, 11509, 24798, 0, 203028),
        "st_expanded": (3632, 11509, 24798, 75330, 203028),
    }
    for graph_type, counts in expected.items():
        row = stats.loc[graph_type]
        assert (row.sources, row.targets, row.st_edges, row.ss_edges, row.tt_edges) == counts, graph_type
    assert (stats.loc["st_expanded", "source_features"], stats.loc["st_expanded", "target_features"]) == (737, 722)
    st = graphs["st_expanded"]
    for kind in ("st", "ss", "tt"):  # the degree cap holds per edge table, as in the reference
        ends = np.concatenate(st.endpoints(kind)) if kind != "st" else st.endpoints(kind)[0]
        assert np.bincount(ends).max() <= 150
    source_degree, _ = degrees(graphs["bipartite"])
    assert source_degree.max() > 8 * np.median(source_degree)  # heavy-tailed


def test_same_seed_same_graph_other_seed_other_graph():
    config = synth.SynthConfig(scale=0.02, seed=7)
    first, second = synth.generate(config), synth.generate(config)
    assert all(first[gt].equals(second[gt]) for gt in first)
    other = synth.generate(synth.SynthConfig(scale=0.02, seed=8))["st_expanded"]
    assert other.content_hash() != first["st_expanded"].content_hash()


def linked_minus_random_similarity(graph, rng):
    """Mean cosine similarity of the features of TT-linked genes minus that of random gene pairs."""
    xt = graph.targets.x / np.linalg.norm(graph.targets.x, axis=1, keepdims=True)
    s, t = graph.endpoints("tt")
    random_a, random_b = rng.integers(0, len(xt), len(s)), rng.integers(0, len(xt), len(s))
    return float((xt[s] * xt[t]).sum(1).mean() - (xt[random_a] * xt[random_b]).sum(1).mean())


def test_signal_controls_how_much_features_say_about_edges():
    rng = np.random.default_rng(0)
    gaps = {
        signal: linked_minus_random_similarity(
            synth.generate(synth.SynthConfig(scale=0.05, seed=1, signal=signal))["st_expanded"], rng
        )
        for signal in (0.0, 0.5, 1.0)
    }
    assert abs(gaps[0.0]) < 0.02
    assert gaps[0.5] > 0.05
    assert gaps[1.0] > gaps[0.5] + 0.05


def test_invalid_config_is_rejected():
    with pytest.raises(ValueError, match="signal"):
        synth.generate(synth.SynthConfig(signal=1.5))
    with pytest.raises(ValueError, match="scale"):
        synth.generate(synth.SynthConfig(scale=0))
