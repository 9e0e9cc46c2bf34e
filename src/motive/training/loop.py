"""One training loop you can read in one sitting.

    motive train --data runs/l1000 --graph st_expanded --split cold_source --model gin_cp --seed 0 --out runs/gin
    motive evaluate runs/gin

Protocol (paper Appendix B, with the reference's defects fixed): full-graph message passing over
the stage's visible edges (exact; ``mode="neighbor"`` samples 2-hop neighbourhoods instead);
supervision mini-batches with 1:1 negatives redrawn per batch; AdamW on BCE with logits; after
every epoch the validation stage is scored on the split's stored 1:10 negatives and the best
epoch by ``monitor`` is kept, with early stopping after ``patience`` epochs without improvement;
the decision threshold maximises F1 on validation and is applied unchanged to test. A split is
made and audited here (``split``/``split_seed``) or read from official tables (``split_dir``);
``loss`` is BCE (paper) or BPR; ``ranking_eval`` adds the filtered full ranking of every query.
Settings: ``motive.training.config``; what a run works on: ``motive.training.prepare``; scoring:
``motive.evaluation.evaluator``; the run folder: ``motive.training.runs``.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from motive.errors import MotiveError
from motive.evaluation.evaluator import ModelEvaluator, query_side
from motive.experiments.parallel import deterministic, torch_threads
from motive.experiments.trackers import Tracker, make_tracker, numeric
from motive.locks import claimed
from motive.models import build_model, check_model, load_plugins, with_views
from motive.outputs import check_target
from motive.splits.negatives import NegativeSampler
from motive.training.config import TrainConfig
from motive.training.prepare import Prepared, prepare
from motive.training.result import TrainResult
from motive.training.runs import TIMING, Trained, accelerated, load_run, summary_of, write_run
from motive.training.sampling import NeighborBatches

log = logging.getLogger(__name__)


def evaluator_of(config: TrainConfig, prepared: Prepared, ranking: bool | None = None) -> ModelEvaluator:
    """The run's evaluator: its split, hits@K, stored negatives and (unless ``ranking`` says
    otherwise) the full ranking when ``ranking_eval`` is on, and the calibration when ``calibrate``
    is (a run's evaluation; the training loop's validation passes ``ranking=False``: neither)."""
    return ModelEvaluator(
        prepared.graph,
        prepared.split,
        config.split,
        config.hits_k,
        ranking=config.ranking_eval if ranking is None else ranking,
        negatives=config.eval_negatives,
        bootstrap=config.bootstrap,
        calibrate=config.calibrate and ranking is None,
        query_similarity=_query_similarity(config, prepared) if ranking is not False else None,
    )


def _query_similarity(config: TrainConfig, prepared: Prepared):
    """Each compound's nearest training compound by structure, for the full ranking's similarity
    bins; None when the queries are genes, the ranking is off or the dataset has no structures."""
    from motive.data.views import aligned, structure_table
    from motive.evaluation.evaluator import nearest_training_similarity, query_side

    if not config.ranking_eval or query_side(config.split) != "source":
        return None
    try:
        table = structure_table(config.data, config.structure_radius, config.structure_bits)
    except MotiveError:
        return None  # a dataset without compound structures: no bins
    return nearest_training_similarity(prepared.graph, prepared.split, *aligned(table, prepared.graph.sources.keys))


class Epochs:
    """One model's optimiser, training negatives and batches: ``run(rng)`` trains one epoch."""

    def __init__(self, config: TrainConfig, prepared: Prepared, model):
        self.config, self.model, self.stage = config, model, prepared.stages["train"]
        self.optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=True
        )
        if "negatives" not in self.stage.cache:  # a function of the graph and split: once per stage graph
            self.stage.cache["negatives"] = NegativeSampler(prepared.graph, prepared.split, "train")
        self.sampler = self.stage.cache["negatives"]
        self.sources, self.targets = prepared.split.supervision(prepared.graph, "train")
        if len(self.sources) == 0:
            raise MotiveError("the split has no training supervision edges")
        self.neighbor = NeighborBatches(self.stage, config.fanouts) if config.mode == "neighbor" else None

    def run(self, rng: np.random.Generator) -> float:
        """Train one epoch over the supervision edges in a random order; return the mean loss."""
        self.model.train()
        order = rng.permutation(len(self.sources))
        losses = []
        for start in range(0, len(order), self.config.batch_size):
            batch = order[start : start + self.config.batch_size]
            loss = self.loss(self.sources[batch], self.targets[batch], rng)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        return float(np.mean(losses))

    def loss(self, pos_s: np.ndarray, pos_t: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """The loss of one batch of positives with fresh negatives (BCE, or BPR against a negative
        of the same query node)."""
        if self.config.loss == "bpr":
            neg_s, neg_t, kept = self.sampler.corrupt(pos_s, pos_t, query_side(self.config.split), rng)
            pos_s, pos_t = pos_s[kept], pos_t[kept]
        else:
            neg_s, neg_t = self.sampler.sample(pos_s, pos_t, self.config.train_negative_ratio, rng)
        logits = self.logits(np.concatenate([pos_s, neg_s]), np.concatenate([pos_t, neg_t]), rng)
        if self.config.loss == "bpr":  # Rendle et al. 2009: -log sigmoid(score(positive) - score(its negative))
            return -F.logsigmoid(logits[: len(pos_s)] - logits[len(pos_s) :]).mean()
        device = self.stage.device
        labels = torch.cat([torch.ones(len(pos_s), device=device), torch.zeros(len(neg_s), device=device)])
        return F.binary_cross_entropy_with_logits(logits, labels)

    def logits(self, sources: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        if self.neighbor is not None:
            return self.neighbor.forward(self.model, sources, targets, rng)
        device = self.stage.device
        return self.model(self.stage, torch.as_tensor(sources, device=device), torch.as_tensor(targets, device=device))


def fit(config: TrainConfig, prepared: Prepared, *, on_epoch: Callable[[dict], None] | None = None) -> Trained:
    """Train; return the model at its best epoch, the history rows and the best epoch.
    ``on_epoch(row)`` is called after every epoch with its history row (epoch, train_loss,
    valid_MONITOR, seconds): a tracker logs it, a tuner prunes from it by raising."""
    with torch_threads(config.threads):
        return _fit(config, prepared, on_epoch)


def _fit(config: TrainConfig, prepared: Prepared, on_epoch: Callable[[dict], None] | None) -> Trained:
    # Same seed, same numbers on CPU (MKL otherwise varies in the last bits); CUDA's scatter
    # kernels have no deterministic variant, so GPU runs agree only to rounding.
    deterministic(prepared.device.type == "cpu")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = build_model(config.model, prepared.stages["train"], **config.model_kwargs)
    if not model.trainable:
        return Trained(model, [], 0)
    accelerated(model.to(prepared.device), prepared.stages.values())
    epochs = Epochs(config, prepared, model)
    evaluator = evaluator_of(config, prepared, ranking=False)
    monitor_name = f"hits@{config.hits_k}" if config.monitor == "hits" else config.monitor
    best, best_epoch, best_state, history = -np.inf, 0, copy.deepcopy(model.state_dict()), []
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        loss = epochs.run(rng)
        train_seconds = time.perf_counter() - started
        value = evaluator.monitor(model, prepared.stages["valid"], config.monitor, config.monitor_queries)
        history.append(
            {
                "epoch": epoch,
                "train_loss": loss,
                f"valid_{monitor_name}": value,
                "train_seconds": train_seconds,
                "seconds": time.perf_counter() - started,
            }
        )
        if value > best:
            best, best_epoch, best_state = value, epoch, copy.deepcopy(model.state_dict())
        if on_epoch is not None:
            on_epoch(history[-1])
        if epoch % 10 == 0 or epoch == 1:
            log.info(
                "epoch %d: loss %.4f, valid %s %.4f (best %.4f at %d)",
                epoch,
                loss,
                monitor_name,
                value,
                best,
                best_epoch,
            )
        if epoch - best_epoch >= config.patience:
            log.info("early stop at epoch %d; best epoch %d", epoch, best_epoch)
            break
    model.load_state_dict(best_state)
    return Trained(model, history, best_epoch)


def run(
    config: TrainConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    marker: dict | None = None,
    group: str | None = None,
) -> dict:
    """Train and evaluate one (model, split, seed); write the run directory atomically
    (``marker``: extra fields for its motive.json, e.g. an experiment's config hash; ``group``: the
    tracker's experiment, ``motive`` for a lone run). Returns the summary: metrics.json's content
    plus the timings of timing.json."""
    return _tracked(config, out, overwrite, marker, group)[0]


def train(config: TrainConfig, out: str | Path, *, overwrite: bool = False) -> TrainResult:
    """``run``, returning the run as an object: settings, the trained model, metrics, history and
    its folder (what ``motive.train`` returns)."""
    _, trained, config = _tracked(config, out, overwrite, None, None)
    metrics = json.loads((Path(out) / "metrics.json").read_text())  # as written, as load() reads it
    return TrainResult(config, trained.model, metrics, pd.DataFrame(trained.history), Path(out))


def _tracked(
    config: TrainConfig, out: str | Path, overwrite: bool, marker: dict | None, group: str | None
) -> tuple[dict, Trained, TrainConfig]:
    load_plugins(config.plugins)  # before anything looks the model up
    config = with_views(config)  # what config.json records: the views the run used
    with claimed(out, "run"):  # a second `train` on the same out is refused now, not after training
        check_target(out, "run", overwrite)
        tracker = make_tracker(config.tracker, config.tracker_uri)
        tracker.start_run(group or "motive", Path(out).name, asdict(config))
        finished = False
        try:
            with torch_threads(config.threads):
                summary, trained, config = _run(config, out, overwrite, marker, tracker)
            finished = True
        finally:
            tracker.end_run(finished)
    return summary, trained, config


def tracked(row: dict) -> dict[str, float]:
    """What a tracker logs of an epoch's history row: the training loss and validation values."""
    return {name: value for name, value in row.items() if name == "train_loss" or name.startswith("valid_")}


def _run(
    config: TrainConfig, out: str | Path, overwrite: bool, marker: dict | None, tracker: Tracker
) -> tuple[dict, Trained, TrainConfig]:
    started = time.perf_counter()
    check_target(out, "run", overwrite)  # fail now, not after training
    if config.split_dir is None:
        check_model(config.model, config.split)
    prepared = prepare(config)
    if config.split_dir is not None:
        config = replace(config, split=prepared.split.config.split)  # the folder says which split it is
        check_model(config.model, config.split)
    trained = fit(config, prepared, on_epoch=lambda row: tracker.log_metrics(tracked(row), step=row["epoch"]))
    evaluation = evaluator_of(config, prepared).evaluate(trained.model, prepared.stages)
    epoch_seconds = [h["seconds"] for h in trained.history]
    timing = {
        "seconds": round(time.perf_counter() - started, 2),
        "seconds_per_epoch": round(float(np.mean(epoch_seconds)), 4) if epoch_seconds else 0.0,
        "full_seconds": evaluation.seconds,
    }
    # Timings live in timing.json, so metrics.json is the same bytes for the same config.
    summary = summary_of(config, prepared, trained, evaluation)
    tracker.log_metrics(numeric(summary["valid"], "final_valid_") | numeric(summary.get("test", {}), "test_"))
    write_run(
        out,
        config=config,
        summary=summary,
        timing=timing,
        trained=trained,
        evaluation=evaluation,
        overwrite=overwrite,
        marker=marker,
    )
    return summary | {name: timing[name] for name in TIMING}, trained, config


def evaluate_run(
    run_dir: str | Path, *, device: str = "auto", data: str | Path | None = None, plugins: list | tuple = ()
) -> dict:
    """Re-score a run from its checkpoint on its split (on ``device``; ``data``: a moved copy of
    its dataset; ``plugins``: the plugin files to load, never the ones the run folder names);
    refuses if the data changed."""
    loaded = load_run(run_dir, device=device, data=data, plugins=plugins)
    config, prepared = loaded.config, loaded.prepared
    if config.final:
        raise MotiveError(
            f"{run_dir}: a final model (--final) has no test stage to evaluate; its valid numbers are in metrics.json"
        )
    with torch_threads(config.threads):
        return evaluator_of(config, prepared).evaluate(loaded.model, prepared.stages).metrics
