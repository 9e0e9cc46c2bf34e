"""The pooled paired bootstrap behind the report's claims (``motive/evaluation/claims.py``)."""

import numpy as np
import pandas as pd

from motive.evaluation.claims import THRESHOLD, pooled_bootstrap


def _ranks(rng, queries: int, shift: float = 0.0) -> pd.DataFrame:
    query = np.repeat([f"q{i}" for i in range(queries)], 3)
    partner = np.tile(["a", "b", "c"], queries)
    return pd.DataFrame({"query": query, "partner": partner, "rr": np.clip(rng.random(len(query)) * 0.5 + shift, 0, 1)})


def test_equal_rankings_give_zero_and_a_shift_gives_its_size():
    rng = np.random.default_rng(0)
    base = [_ranks(rng, 30) for _ in range(5)]
    same = pooled_bootstrap([(b, b) for b in base], resamples=200)
    assert same["difference"] == 0 and same["low"] == 0 == same["high"] and same["p"] == 1.0
    shifted = [(b.assign(rr=b["rr"] + 0.1), b) for b in base]
    found = pooled_bootstrap(shifted, resamples=200)
    assert np.isclose(found["difference"], 0.1) and np.isclose(found["low"], 0.1) and found["p"] == 0
    pooled = pd.concat(base)["rr"].mean()
    assert np.isclose(found["relative"], 0.1 / pooled) and found["positives"] == 5 * 90


def test_noise_alone_is_not_a_win_and_the_interval_pools_every_split():
    rng = np.random.default_rng(1)
    pairs = [(_ranks(rng, 40), _ranks(rng, 40)) for _ in range(5)]
    found = pooled_bootstrap(pairs, resamples=1000)
    assert found["low"] < found["difference"] < found["high"]
    assert found["low"] < 0 < found["high"] and found["p"] > 0.05  # two independent noises: no claim
    one = pooled_bootstrap(pairs[:1], resamples=1000)
    assert found["high"] - found["low"] < one["high"] - one["low"]  # five splits pin it down more than one
    assert THRESHOLD == 0.05  # the rule is fixed in the code, not chosen after looking at test


def test_pooled_adjusted_mrr_is_pykeens_on_the_pooled_positives():
    from motive.evaluation.claims import pooled_adjusted_mrr
    from motive.evaluation.full_ranking import adjusted_ranking_metrics, harmonic_numbers

    rng = np.random.default_rng(2)
    frames, tables = [], []
    for _ in range(3):
        table = pd.DataFrame(
            {
                "query": np.repeat(np.arange(20), 2),
                "rank": rng.integers(1, 50, 40).astype(float),
                "candidates": rng.integers(60, 90, 40),
            }
        )
        n = table["candidates"].to_numpy() + 1
        frames.append(table.assign(rr=1 / table["rank"], chance=harmonic_numbers(int(n.max()))[n] / n))
        tables.append(table)
    found = pooled_adjusted_mrr(frames, resamples=500)
    expected = adjusted_ranking_metrics(pd.concat(tables, ignore_index=True))["adjusted_mrr"]
    assert np.isclose(found["adjusted_mrr"], expected) and found["low"] < expected < found["high"]
