"""Expected precision at each rank: how likely a candidate at a given place of a query's ranked
list is a true target, fitted on the validation stage only (never on test).

Each validation query's candidates are ranked as the filtered full ranking ranks them (known
positives of other stages removed); its j-th best positive sits at place ``rank - 1 + j`` of its
list. Places are grouped in bins that widen with the rank (1, 2-5, 6-20, 21-100, 101-500, 501+);
a bin's expected precision is the share of the places it holds (over every validation query that
has them) that were true targets, made non-increasing with the place by pooling adjacent bins that
violate it (isotonic regression, pool adjacent violators), with a 95% Clopper-Pearson interval on
the pooled counts, widened where a bootstrap prediction interval over validation queries (the share a
new set of as many queries would show) is wider. A run keeps the fit in
``calibration.json`` together with the same bins observed on test
(for the reliability diagram), and ``predict`` reads a candidate's expected precision from the bin
of its place among the candidates not already known.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from motive.errors import MotiveError
from motive.evaluation import intervals

EDGES = (1, 2, 6, 21, 101, 501)  # bin i holds places EDGES[i] .. EDGES[i+1] - 1 (coarse: a validation set is small)


def places(ranking: pd.DataFrame) -> pd.DataFrame:
    """Each positive's place in its query's list (``rank - 1 + j`` for its j-th best positive) and
    the length of that list (the filtered candidates plus the query's positives), rows by query
    (sorted) and rank."""
    _, _, order, place, length = _placed(ranking)
    return pd.DataFrame({"query": ranking["query"].to_numpy()[order], "place": place, "length": length})


def _placed(ranking: pd.DataFrame) -> tuple[np.ndarray, pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """``places`` as arrays: each row's query code (of the sorted queries), the queries, the rows'
    order (by query, then rank; stable), and the rows' places and list lengths in that order."""
    codes, queries = pd.factorize(ranking["query"], sort=True)
    rank = ranking["rank"].to_numpy(np.float64)
    order = np.lexsort((rank, codes))
    codes = codes[order]
    starts = np.flatnonzero(np.diff(codes, prepend=-1))  # each query's first row
    sizes = np.diff(np.r_[starts, len(codes)])
    place = np.ceil(rank[order] - 1 + np.arange(len(codes)) - np.repeat(starts, sizes) + 1)
    length = ranking["candidates"].to_numpy(np.int64)[order] + np.repeat(sizes, sizes)
    return codes, queries, order, place, length


def per_query(ranking: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(queries x bins) hits and trials: each query's positives placed in a bin, and the places of
    the bin its list holds."""
    codes, queries, _, place, length = _placed(ranking)
    lengths = length[np.flatnonzero(np.diff(codes, prepend=-1))]  # each query's first row
    hits = np.zeros((len(queries), len(EDGES)))
    trials = np.zeros((len(queries), len(EDGES)))
    for i, (low, high) in enumerate(zip(EDGES, (*EDGES[1:], np.inf), strict=True)):
        trials[:, i] = np.clip(np.minimum(lengths, high - 1) - low + 1, 0, None)
        inside = (place >= low) & (place < high)
        hits[:, i] = np.bincount(codes[inside], minlength=len(queries))
    return hits, trials


def binned(ranking: pd.DataFrame) -> pd.DataFrame:
    """Per place bin: hits (positives placed in it), trials (places of the bin that the queries'
    lists hold) and their share."""
    return _bins(*per_query(ranking))


def _bins(hits: np.ndarray, trials: np.ndarray) -> pd.DataFrame:
    """``binned``'s table from the (queries x bins) hits and trials of ``per_query``."""
    highs = [None if high == np.inf else int(high - 1) for high in (*EDGES[1:], np.inf)]
    table = pd.DataFrame(
        {"low": EDGES, "high": highs, "hits": hits.sum(0).astype(int), "trials": trials.sum(0).astype(int)}
    )
    table["precision"] = table["hits"] / table["trials"].where(table["trials"] > 0)
    return table


def fit(
    valid_ranking: pd.DataFrame,
    test_ranking: pd.DataFrame | None = None,
    resamples: int = 1000,
    bootstrap: intervals.Bootstrap | None = None,
) -> dict:
    """The calibration of a run: validation bins with intervals, and test's observed shares. An
    interval spans both a Clopper-Pearson interval of the pooled counts and a prediction interval
    from a bootstrap over validation queries (a good query holds several hits, so places are not
    independent trials): the range of the share a new set of as many queries would show
    (``bootstrap``: the validation queries' resamples, else drawn here with seed 0)."""
    hits, trials = per_query(valid_ranking)
    table = monotone(_bins(hits, trials))
    blocks = table.groupby(["hits", "trials"], sort=False).ngroup().to_numpy()  # pooled bins share counts
    pooled_hits = np.stack([hits[:, blocks == b].sum(1) for b in range(blocks.max() + 1)], axis=1)
    pooled_trials = np.stack([trials[:, blocks == b].sum(1) for b in range(blocks.max() + 1)], axis=1)
    # each resample's sums as (draw counts) @ (per-query counts): integers, so exactly the sums over
    # the draws (seed 0: the same draws for every run of the split)
    drawn = intervals.Bootstrap.of(len(hits), bootstrap, resamples, 0).as_float64()
    boot = (drawn @ pooled_hits) / np.maximum(drawn @ pooled_trials, 1)
    # a prediction interval for the share a new set of as many queries would show: the bootstrap
    # spread (validation's own sampling) counted twice in variance (the new set samples too)
    centre = pooled_hits.sum(0) / np.maximum(pooled_trials.sum(0), 1)
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    boot_low = np.clip(centre - np.sqrt(2) * (centre - low), 0, 1)
    boot_high = np.clip(centre + np.sqrt(2) * (high - centre), 0, 1)
    exact_low, exact_high = clopper_pearson(table["hits"].to_numpy(), table["trials"].to_numpy())
    table["precision_low"] = np.minimum(exact_low, boot_low[blocks])  # NaN (no trials) stays NaN
    table["precision_high"] = np.maximum(exact_high, boot_high[blocks])
    # places no validation list reached take the deepest bin that was observed (precision does not rise)
    table["extrapolated"] = table["trials"] == 0
    columns = ["precision", "precision_low", "precision_high"]
    table[columns] = table[columns].ffill()
    found = {"fitted_on": "valid", "method": "binned place, isotonic, Clopper-Pearson and query bootstrap 95%"}
    found["bins"] = _records(table)
    if test_ranking is not None and len(test_ranking):
        found["test"] = _records(binned(test_ranking))
    return found


def clopper_pearson(hits: np.ndarray, trials: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """The exact (Clopper-Pearson) interval of each share hits / trials, as quantiles of beta
    distributions: the bounds scipy's ``binomtest(...).proportion_ci(method="exact")`` finds by
    root search, to within its tolerance (1e-10 relative), all bins at once. NaN without trials.
    A quantile is scipy.special's inverse regularised incomplete beta function: scipy.stats'
    ``beta.ppf`` computes the same (the same bits), but importing scipy.stats takes 0.7 s."""
    from scipy.special import betaincinv

    hits, trials = np.asarray(hits, np.float64), np.asarray(trials, np.float64)
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(hits > 0, betaincinv(hits, trials - hits + 1, tail), 0.0)
        high = np.where(hits < trials, betaincinv(hits + 1, trials - hits, 1 - tail), 1.0)
    empty = trials <= 0
    low[empty], high[empty] = np.nan, np.nan
    return low, high


def monotone(table: pd.DataFrame) -> pd.DataFrame:
    """Bins whose precision rises with the place pooled with their neighbours until it does not:
    SciPy's isotonic regression (pool adjacent violators) of hits / trials weighted by the trials;
    neighbouring bins of equal precision form one pool. Each bin keeps its place range and takes
    its pool's counts; the bins past every list (no trials, always the deepest) stay as they are."""
    from scipy.optimize import isotonic_regression

    hits, trials = table["hits"].to_numpy(float), table["trials"].to_numpy(float)
    reached = np.flatnonzero(trials > 0)
    pooled_hits, pooled_trials = table["hits"].to_numpy(copy=True), table["trials"].to_numpy(copy=True)
    if len(reached):
        fitted = isotonic_regression(hits[reached] / trials[reached], weights=trials[reached], increasing=False)
        block = np.repeat(np.arange(len(fitted.blocks) - 1), np.diff(fitted.blocks))  # each bin's pool
        pooled_hits[reached] = np.bincount(block, weights=hits[reached])[block].round().astype(np.int64)
        pooled_trials[reached] = np.bincount(block, weights=trials[reached])[block].round().astype(np.int64)
    pooled = table.assign(hits=pooled_hits, trials=pooled_trials)
    pooled["precision"] = pooled["hits"] / pooled["trials"].where(pooled["trials"] > 0)
    return pooled


def _records(table: pd.DataFrame) -> list[dict]:
    return json.loads(table.to_json(orient="records"))


def read(path: str | Path) -> pd.DataFrame:
    """A run's ``calibration.json`` (outside data: checked) as its validation bins."""
    path = Path(path)
    try:
        bins = pd.DataFrame(json.loads(path.read_text())["bins"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise MotiveError(f"{path}: unreadable calibration ({type(error).__name__}); evaluate the run again") from None
    needed = ["low", "high", "precision", "precision_low", "precision_high"]
    if any(column not in bins for column in needed) or bins["low"].tolist() != list(EDGES):
        raise MotiveError(f"{path}: not a calibration written by this motive version; evaluate the run again")
    return bins


def expected(bins: pd.DataFrame, place: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected precision and its interval for candidates at ``place`` (1 = best unknown one)."""
    index = np.clip(np.searchsorted(np.asarray(EDGES), np.asarray(place), side="right") - 1, 0, len(EDGES) - 1)
    return tuple(
        bins[column].to_numpy(np.float64)[index] for column in ("precision", "precision_low", "precision_high")
    )
