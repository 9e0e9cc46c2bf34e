"""Running the planned runs: reused when finished, else in this process, on a local Dask cluster
or on a running one."""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path

from motive.experiments.grid import RunSpec
from motive.experiments.parallel import cluster_client, reuse_freed_memory
from motive.outputs import read_marker
from motive.training.config import TrainConfig


def finished(spec: RunSpec) -> dict | None:
    """The metrics of a finished run of exactly this spec, or None."""
    folder = Path(spec.folder)
    marker = read_marker(folder)
    if marker is None or marker.get("kind") != "run" or marker.get("config_hash") != spec.config_hash:
        return None
    try:
        summary = json.loads((folder / "metrics.json").read_text())
        timing = json.loads((folder / "timing.json").read_text()) if (folder / "timing.json").is_file() else {}
    except (OSError, ValueError):
        return None
    return summary | {name: timing.get(name, float("nan")) for name in ("seconds", "seconds_per_epoch")}


def execute(spec: RunSpec) -> dict:
    """Run one spec unless it is finished; never raises for a failing run (the error goes into
    the row). Safe to call on any worker that sees the same filesystem."""
    from motive.training.loop import run

    summary = finished(spec)  # again: a lost worker may have finished it before it was lost
    if summary is not None:
        return {"status": "reused", "summary": summary}
    started = time.perf_counter()
    try:
        group = Path(spec.folder).parent.parent.name  # the results folder: one tracker group per experiment
        summary = run(TrainConfig(**spec.config), spec.folder, marker={"config_hash": spec.config_hash}, group=group)
    except Exception as error:  # recorded; the experiment goes on
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        return {
            "status": "failed",
            "error": message,
            "traceback": traceback.format_exc(),
            "seconds": round(time.perf_counter() - started, 2),
        }
    return {"status": "done", "summary": summary}


def execute_on_worker(spec: RunSpec) -> dict:
    """On a Dask worker: the worker's malloc set up (``reuse_freed_memory``), then ``execute`` (the
    run sets its own torch threads, ``TrainConfig.threads``)."""
    reuse_freed_memory()
    return execute(spec)


def execute_all(specs: list[RunSpec], workers: int = 1, cluster: str | None = None):
    """Yield (index, outcome) as runs finish: reused and refused runs at once, then the rest in
    this process (workers=1), on a local Dask cluster of ``workers`` processes, or on the Dask
    cluster at ``cluster``. Dask reschedules the run of a lost worker; a run that still cannot
    finish is recorded as failed. A seed-free model runs once per split: its later seeds get the
    outcome of its first (``RunSpec.same_as``), right after it."""
    followers: dict[str, list[int]] = {}  # a run folder -> the seeds that show its result
    for index, spec in enumerate(specs):
        if spec.same_as is not None and not spec.refusal:
            followers.setdefault(spec.same_as, []).append(index)
    for index, outcome in _execute_each(specs, workers, cluster):
        yield index, outcome
        for follower in followers.get(specs[index].folder, []):
            yield follower, outcome


def _execute_each(specs: list[RunSpec], workers: int, cluster: str | None):
    """``execute_all`` without the seeds that show another run's result."""
    todo = []
    for index, spec in enumerate(specs):
        summary = None if spec.refusal or spec.same_as else finished(spec)
        if spec.refusal:
            yield index, {"status": "n/a", "error": spec.refusal}
        elif spec.same_as is not None:
            continue
        elif summary is not None:
            yield index, {"status": "reused", "summary": summary}
        else:
            todo.append(index)
    if not todo:
        return
    if cluster is None and workers == 1:
        for index in todo:
            yield index, execute(specs[index])
        return
    from distributed import LocalCluster, as_completed

    local = None
    if cluster is None:
        local = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        client = local.get_client()
    else:
        client = cluster_client(cluster)
    try:
        futures = {
            client.submit(
                execute_on_worker,
                specs[index],
                pure=False,
                key=f"motive-run-{Path(specs[index].folder).name}-{time.time_ns()}",
            ): index
            for index in todo
        }
        for future in as_completed(futures):
            index = futures[future]
            try:
                outcome = future.result()
            except Exception as error:  # e.g. KilledWorker: the run took down every worker it was given
                outcome = {
                    "status": "failed",
                    "error": f"{type(error).__name__}: {error}".splitlines()[0],
                    "traceback": traceback.format_exc(),
                }
            yield index, outcome
    finally:
        client.close()
        if local is not None:
            local.close()
