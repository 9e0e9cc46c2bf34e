"""Expected precision per place (``motive/evaluation/calibration.py``): hand-computed bins, isotonic pooling,
intervals that hold the estimate, and predictions that carry it with their evidence."""

import importlib
import json

import numpy as np
import pandas as pd
import pytest

from motive.data import layout, synth
from motive.evaluation import calibration
from motive.training.config import TrainConfig
from motive.training.loop import run

predict = importlib.import_module("motive.predict")  # the module; motive.predict is the API function


def test_places_and_bins_hand_computed():
    # query a: 2 positives at filtered ranks 1 and 3 among 8 candidates (list of 10); b: rank 7 among 28
    ranking = pd.DataFrame({"query": ["a", "a", "b"], "rank": [1.0, 3.0, 7.0], "candidates": [8, 8, 28]})
    found = calibration.places(ranking).set_index(["query", "place"])
    assert list(found.index) == [("a", 1.0), ("a", 4.0), ("b", 7.0)]  # a's second positive: 2 candidates above it
    table = calibration.binned(ranking).set_index("low")
    assert table.loc[1, "hits"] == 1 and table.loc[1, "trials"] == 2
    assert table.loc[2, "hits"] == 1 and table.loc[2, "trials"] == 4 + 4  # places 2-5 of both lists
    assert table.loc[6, "hits"] == 1 and table.loc[6, "trials"] == 5 + 15  # a's list ends at 10, b's runs on
    assert table.loc[21, "trials"] == 29 - 20  # only b's list (29 long) reaches past 20


def pool_adjacent_violators(hits: list[int], trials: list[int]) -> list[float]:
    """Each bin's pooled precision, by the textbook loop: merge the first pair of neighbouring
    blocks whose precision rises, start again, until none does (bins without trials left out)."""
    blocks = [[i] for i in range(len(hits)) if trials[i] > 0]

    def rate(block):
        return sum(hits[i] for i in block) / sum(trials[i] for i in block)

    merged = True
    while merged:
        merged = False
        for j in range(len(blocks) - 1):
            if rate(blocks[j + 1]) > rate(blocks[j]):
                blocks[j : j + 2] = [blocks[j] + blocks[j + 1]]
                merged = True
                break
    found = [float("nan")] * len(hits)
    for block in blocks:
        for i in block:
            found[i] = rate(block)
    return found


@pytest.mark.parametrize("seed", range(20))
def test_pooling_equals_the_textbook_loop(seed):
    rng = np.random.default_rng(seed)
    bins = rng.integers(3, 12)
    trials = np.sort(rng.integers(1, 60, bins))[::-1]
    trials[bins - rng.integers(0, 3) :] = 0  # the deepest bins: no list reaches them
    hits = np.minimum(rng.integers(0, 30, bins), trials)
    table = pd.DataFrame({"low": np.arange(bins), "hits": hits, "trials": trials})
    pooled = calibration.monotone(table)
    expected = pool_adjacent_violators(hits.tolist(), trials.tolist())
    np.testing.assert_allclose(pooled["precision"].to_numpy(), expected, rtol=1e-12)
    assert (pooled["trials"].to_numpy()[trials == 0] == 0).all()
    assert pooled["hits"].sum() >= hits.sum()  # a pooled bin carries its whole block's counts


def test_pooling_makes_precision_non_increasing_and_intervals_hold_it():
    table = pd.DataFrame({"low": calibration.EDGES, "high": [1, 5, 20, 100, 500, None]})
    table["hits"], table["trials"] = [5, 2, 30, 10, 4, 1], [20, 80, 300, 1600, 8000, 40000]
    pooled = calibration.monotone(table.assign(precision=table["hits"] / table["trials"]))
    assert (np.diff(pooled["precision"].to_numpy()) <= 0).all()
    assert pooled.loc[1, "hits"] == pooled.loc[2, "hits"] == 32  # 2/80 < 30/300: pooled
    rng = np.random.default_rng(0)
    queries = np.repeat(np.arange(200), 2)
    ranking = pd.DataFrame({"query": queries, "rank": rng.integers(1, 60, 400).astype(float), "candidates": 300})
    fitted = pd.DataFrame(calibration.fit(ranking)["bins"])
    assert fitted["extrapolated"].tolist() == [False] * 5 + [True]  # lists of 302 never reach place 501
    inside = fitted["precision_low"] <= fitted["precision"]
    assert (inside & (fitted["precision"] <= fitted["precision_high"])).all()


def test_clopper_pearson_is_scipys_exact_interval_for_every_bin_at_once():
    from scipy.stats import binomtest

    hits, trials = np.array([0, 1, 7, 300, 20, 50, 0]), np.array([5, 1, 40, 90_000, 20, 51, 0])
    low, high = calibration.clopper_pearson(hits, trials)
    for h, n, lo, hi in zip(hits[:-1], trials[:-1], low, high, strict=False):
        exact = binomtest(int(h), int(n)).proportion_ci(0.95, method="exact")
        assert lo == pytest.approx(exact.low, rel=1e-8, abs=1e-12) and hi == pytest.approx(exact.high, rel=1e-8)
    assert low[0] == 0.0 and high[1] == high[4] == 1.0  # no hit; every trial a hit
    assert np.isnan(low[-1]) and np.isnan(high[-1])  # no trials: no interval


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibrated")
    layout.write_dataset(synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0)), root / "data")
    config = TrainConfig(data=str(root / "data"), split="cold_source", model="knn", hits_k=5, ranking_eval=True)
    run(config, root / "run")
    return root


def test_a_run_keeps_its_calibration_and_predict_reads_it_with_evidence(calibrated):
    stored = json.loads((calibrated / "run" / "calibration.json").read_text())
    assert stored["fitted_on"] == "valid" and len(stored["bins"]) == len(stored["test"]) == len(calibration.EDGES)
    loaded = predict.load_predictor(calibrated / "run", "cpu")
    graph = loaded.graph
    known_compound = int(np.flatnonzero(loaded.split.node_stage["source"] == 0)[0])  # a training compound
    profiles = pd.DataFrame(
        graph.sources.x[[known_compound]],
        columns=loaded.feature_names["source"],
        index=pd.Index(["COPYOFKNOWN000"], name="Metadata_InChIKey"),
    )
    table = predict.rank(loaded, compounds=profiles)
    assert table["expected_precision"].notna().all()  # a new compound: every pair unknown
    assert (np.diff(table["expected_precision"].to_numpy()) <= 1e-12).all()  # best places first
    assert (table["expected_precision_low"] <= table["expected_precision"]).all()
    s, t = loaded.stage.edges[("source", "binds", "target")]
    gene = graph.targets.keys[t[s == known_compound][0]]  # a gene the copied compound is known to hit
    row = table[table["candidate"] == gene].iloc[0]
    assert row["evidence"].startswith(f"{graph.sources.keys[known_compound]} (profile 1.00)")
    existing = predict.rank(
        loaded,
        compounds=profiles.rename(index={"COPYOFKNOWN000": graph.sources.keys[known_compound]}),
        allow_existing=True,
    )
    assert existing.loc[existing["known"] != "none", "expected_precision"].isna().all()  # known pairs: no estimate
