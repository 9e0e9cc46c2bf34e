"""Hyper-parameter search: an Optuna study around training, on the validation metric only.

    motive tune --data runs/l1000 --split cold_source --model gin_cp --trials 20 --out runs/tune-gin
    motive tune ... --storage postgresql://user@host/db --study gin-cs     # several machines, one study
    motive experiment runs/tune-gin/best_params.yaml --out runs/tuned        # the best settings, 5 seeds

Every trial trains on the split's ``validation_view``: the test stage is never built, its pairs
are withheld from the split the trial sees, and its negatives are not loaded, so no choice made
here can depend on a test pair. Trials run in this process, in a local process pool
(``workers``) or on a Dask cluster, all against the same study storage.
"""

from __future__ import annotations

import inspect
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from motive.errors import MotiveError, require
from motive.experiments.config import TuneSettings
from motive.experiments.storage import masked, sqlite_url
from motive.experiments.trackers import make_tracker
from motive.marks import write_marked_parquet
from motive.models import REGISTRY, build_model, check_model, load_plugins, with_views
from motive.outputs import own_file, reopen_dir
from motive.training.config import TUNE_FIXED, TUNED, TrainConfig, settings_help, signature_of
from motive.training.loop import fit, tracked
from motive.training.prepare import Prepared, prepare

log = logging.getLogger(__name__)
LR = {"low": 1e-6, "high": 1e-2, "log": True}  # paper's search space
WEIGHT_DECAY = {"low": 1e-5, "high": 1.0, "log": True}


# Settings that never change a trial's validation value: where it logs, and what only a run's final
# evaluation computes. They are not part of a study's identity.
UNSCORED = ("tracker", "tracker_uri", "calibrate", "bootstrap")


def space_of(model: str) -> dict:
    """The full search space of a model: lr and weight decay, plus its registry's kwargs space."""
    return {"lr": LR, "weight_decay": WEIGHT_DECAY} | {
        f"model_kwargs.{name}": spec for name, spec in REGISTRY[model].space.items()
    }


def suggest(trial, space: dict) -> dict:
    """TrainConfig settings for one trial."""
    settings: dict = {"model_kwargs": {}}
    for name, spec in space.items():
        if isinstance(spec, list):
            value = trial.suggest_categorical(name, spec)
        elif isinstance(spec.get("low"), int) and isinstance(spec.get("high"), int):
            value = trial.suggest_int(name, spec["low"], spec["high"], log=spec.get("log", False))
        else:
            value = trial.suggest_float(name, spec["low"], spec["high"], log=spec.get("log", False))
        if name.startswith("model_kwargs."):
            settings["model_kwargs"][name.split(".", 1)[1]] = value
        else:
            settings[name] = value
    return settings


def settings_of(params: dict) -> dict:
    """A trial's params as TrainConfig settings (``model_kwargs.hidden`` -> model_kwargs)."""
    settings: dict = {"model_kwargs": {}}
    for name, value in params.items():
        if name.startswith("model_kwargs."):
            settings["model_kwargs"][name.split(".", 1)[1]] = value
        else:
            settings[name] = value
    return settings


def objective_value(base: dict, prepared: Prepared, trial, prune: bool, study_name: str = "motive-tune") -> float:
    """Train one trial on the validation view (``prepared``: the graph, split and stages every
    trial shares, made once per process); return its best validation value."""
    import optuna

    config = TrainConfig(**(base | suggest(trial, space_of(base["model"]))))
    started = time.perf_counter()

    tracker = make_tracker(config.tracker, config.tracker_uri)
    tracker.start_run(study_name, f"trial-{trial.number}", asdict(config))

    def report(row: dict) -> None:
        tracker.log_metrics(tracked(row), step=row["epoch"])
        value = next(v for name, v in row.items() if name.startswith("valid_"))
        trial.report(value, row["epoch"])
        if prune and trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {row['epoch']}")

    try:
        trained = fit(config, prepared, on_epoch=report)
        column = next(c for c in trained.history[0] if c.startswith("valid_"))
        best = float(max(h[column] for h in trained.history))
        tracker.log_metrics({f"best_{column}": best})
    finally:
        tracker.end_run()
    trial.set_user_attr("best_epoch", trained.best_epoch)
    trial.set_user_attr("epochs_run", len(trained.history))
    trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
    return best


def _study(storage: str, name: str, sampler: str, seed: int, create: bool):
    import optuna

    samplers = {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler}
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=10)
    if create:
        return optuna.create_study(
            storage=storage,
            study_name=name,
            direction="maximize",
            sampler=samplers[sampler](seed=seed),
            pruner=pruner,
            load_if_exists=True,
        )
    study = optuna.load_study(storage=storage, study_name=name, pruner=pruner)
    # Seeded by the trials already there: a resumed study draws new points, not the first ones again.
    study.sampler = samplers[sampler](seed=int(np.random.SeedSequence([seed, len(study.trials)]).generate_state(1)[0]))
    return study


def optimize(
    storage: str, name: str, base: dict, trials: int, sampler: str, seed: int, prune: bool, progress: bool = False
) -> int:
    """Run ``trials`` trials of a study that exists; return how many finished. Runs anywhere
    that reaches the storage and the data (a pool process, a Dask worker); each trial trains with
    the torch threads of its settings (``TrainConfig.threads``), with a Dask worker's malloc set up
    (``reuse_freed_memory``)."""
    import optuna

    from motive.experiments.parallel import reuse_freed_memory

    reuse_freed_memory()

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("motive.training.loop").setLevel(logging.WARNING)  # one line per trial is Optuna's
    study = _study(storage, name, sampler, seed, create=False)
    load_plugins(base["plugins"])
    prepared = prepare(TrainConfig(**base), stage_names=("train", "valid"))  # what a trial's settings do not change
    study.optimize(
        lambda trial: objective_value(base, prepared, trial, prune, name),
        n_trials=trials,
        catch=(MotiveError,),
        gc_after_trial=True,
        show_progress_bar=progress,
    )
    return trials


def tune(data: str | Path, out: str | Path, *, settings: dict | None = None, progress: bool = True, **options) -> dict:
    """Search ``model``'s hyper-parameters on the validation metric; write OUT/best_params.yaml
    (a ``motive experiment`` config), trials.parquet and history.png; return the best trial.
    ``settings``: fixed ``TrainConfig`` settings of every trial (epochs, hits_k, ...)."""
    import optuna

    chosen = TuneSettings(**options)
    model, graph, split, trials, storage = chosen.model, chosen.graph, chosen.split, chosen.trials, chosen.storage
    sampler, seed, prune, workers, cluster = chosen.sampler, chosen.seed, chosen.prune, chosen.workers, chosen.cluster
    name = chosen.study or f"{graph}-{split}-{model}"
    if storage is not None and storage.startswith("postgresql"):
        require("psycopg", "postgres", f"storage {masked(storage)}")
    settings = dict(settings or {})
    for key in settings:
        if key not in (*TUNE_FIXED, "plugins", "split_seed"):
            raise MotiveError(f"settings: {key!r} is set by the search or by its own argument, not in settings")
    config = TrainConfig(data=str(Path(data).resolve()), graph=graph, split=split, model=model, seed=0, **settings)
    load_plugins(config.plugins)
    base = asdict(with_views(config))
    check_model(model, split)
    out = reopen_dir(out, "tune", ["study.db", "best_params.yaml", "trials.parquet", "history.png"])
    storage = storage or sqlite_url(out / "study.db")
    prepared = prepare(TrainConfig(**base), stage_names=("train",))
    if not build_model(model, prepared.stages["train"], **base["model_kwargs"]).trainable:
        raise MotiveError(f"model {model!r} has no parameters to tune")
    identity = {
        "graph_hash": prepared.graph_hash,
        "fixed": {k: v for k, v in base.items() if k not in (*TUNED, *UNSCORED, "data", "device", "plugins")},
        "space": space_of(model),
    }
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for attempt in range(4):
        try:
            created = _study(storage, name, sampler, seed, create=True)
            break
        except (
            Exception
        ) as error:  # a bad URL, an unreachable server, or another machine creating the same tables right now
            if attempt == 3 or "could not connect" in str(error) or "Connection refused" in str(error):
                reason = str(error).splitlines()[0].replace(storage, masked(storage))
                raise MotiveError(
                    f"storage {masked(storage)}: cannot open the study ({type(error).__name__}: {reason})"
                ) from None
            time.sleep(0.5 + attempt + seed % 7 * 0.1)
    identity = json.loads(json.dumps(identity))  # as the storage gives it back (tuples become lists)
    known = created.user_attrs.get("identity")
    if known is None:
        created.set_user_attr("identity", identity)
    elif known != identity:
        raise MotiveError(
            f"study {name!r} in {masked(storage)} was made for other data or settings; pass another `study` or the "
            "same settings"
        )
    make_tracker(base["tracker"], base["tracker_uri"]).prepare(name)  # once, before trials in several processes
    started = time.perf_counter()
    before = len(created.trials)
    _run_trials(storage, name, base, trials, sampler, seed, prune, workers, cluster, progress)
    seconds = time.perf_counter() - started
    return write_outputs(out, storage, name, base, seconds, before)


tune.__signature__ = signature_of(
    TuneSettings,
    [
        inspect.Parameter("data", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str | Path"),
        inspect.Parameter("out", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str | Path"),
        inspect.Parameter("settings", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="dict | None"),
        inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=True, annotation="bool"),
    ],
    "dict",
)
tune.__doc__ += "\n" + settings_help(TuneSettings)


def _run_trials(storage, name, base, trials, sampler, seed, prune, workers, cluster, progress) -> None:
    from motive.experiments.parallel import cluster_client

    shares = [trials // workers + (1 if i < trials % workers else 0) for i in range(workers)]
    shares = [share for share in shares if share]
    if cluster is not None:
        client = cluster_client(cluster)
        try:
            client.gather(
                [
                    client.submit(optimize, storage, name, base, share, sampler, seed + 1000 * i, prune, pure=False)
                    for i, share in enumerate(shares)
                ]
            )
        finally:
            client.close()
        return
    if len(shares) == 1:
        optimize(storage, name, base, shares[0], sampler, seed, prune, progress=progress)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(len(shares), mp_context=multiprocessing.get_context("spawn")) as pool:
        for future in [
            pool.submit(optimize, storage, name, base, share, sampler, seed + 1000 * i, prune)
            for i, share in enumerate(shares)
        ]:
            future.result()


def best_settings(storage: str, name: str) -> dict:
    """The best trial of a study as TrainConfig settings (lr, weight_decay, model_kwargs)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(storage=storage, study_name=name)
    except KeyError:
        raise MotiveError(
            f"storage {masked(storage)}: no study named {name!r}; run `motive tune` for it first"
        ) from None
    try:
        best = study.best_trial
    except ValueError:
        raise MotiveError(f"study {name!r}: no finished trial yet") from None
    return settings_of(best.params)


def write_outputs(out: Path, storage: str, name: str, base: dict, seconds: float, before: int) -> dict:
    import optuna

    study = optuna.load_study(storage=storage, study_name=name)
    frame = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs", "duration"))
    frame["duration"] = frame["duration"].dt.total_seconds() if "duration" in frame else np.nan
    frame["state"] = frame["state"].astype(str)
    with own_file(out / "trials.parquet") as tmp:
        write_marked_parquet(frame, tmp, "trials")
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed:
        raise MotiveError(f"study {name!r}: no trial completed (see {out / 'trials.parquet'})")
    best = study.best_trial
    model_settings = settings_of(best.params)
    # Every fixed setting of the study but the machine it ran on (tuples as YAML lists).
    fixed = {k: list(base[k]) if isinstance(base[k], tuple) else base[k] for k in TUNE_FIXED if k != "device"}
    config = {
        "description": f"best of study {name} (trial {best.number}, validation {base['monitor']} {best.value:.6g})",
        "data": base["data"],
        "graphs": [base["graph"]],
        "splits": [base["split"]],
        "models": {base["model"]: model_settings},
        "settings": fixed,
        "plugins": base["plugins"],
    }
    with own_file(out / "best_params.yaml") as tmp:
        tmp.write_text(
            f"# motive tune: study {name!r} in {masked(storage)}\n" + yaml.safe_dump(config, sort_keys=False)
        )
    _history_png(frame, out / "history.png", name, base["monitor"])
    return {
        "study": name,
        "storage": masked(storage),
        "trials": len(study.trials),
        "added": len(study.trials) - before,
        "completed": len(completed),
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
        "best_trial": best.number,
        "best_value": best.value,
        "best_params": model_settings,
        "seconds": round(seconds, 1),
    }


def _history_png(frame: pd.DataFrame, path: Path, name: str, monitor: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = frame[frame["state"] == "COMPLETE"].sort_values("number")
    figure, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    ax.plot(done["number"], done["value"], "o", color="#9ecae1", label="trial")
    ax.plot(done["number"], done["value"].cummax(), "-", color="#08519c", label="best so far")
    pruned = frame[frame["state"] == "PRUNED"]
    if len(pruned):
        ax.plot(
            pruned["number"],
            np.zeros(len(pruned)) + (done["value"].min() if len(done) else 0),
            "x",
            color="#aaaaaa",
            label=f"pruned ({len(pruned)})",
        )
    ax.set_xlabel("trial")
    ax.set_ylabel(f"best validation {monitor}")
    ax.set_title(f"optimisation history: {name}")
    ax.legend(fontsize=8)
    with own_file(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    plt.close(figure)
