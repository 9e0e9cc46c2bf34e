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
    cluster at ``cluster``, each worker next taking a run that shares its stage graphs where
    there is one (``Queue``). Dask reschedules the run of a lost worker; a run that still cannot
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
    queue = Queue(specs, todo)
    if cluster is None and workers == 1:
        while queue:
            index = queue.take("here")
            yield index, execute(specs[index])
        return
    from distributed import LocalCluster

    local = None
    if cluster is None:
        local = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
        client = local.get_client()
    else:
        client = cluster_client(cluster)
    try:
        yield from _on_dask(client, specs, queue, workers if local is not None else 1)
    finally:
        client.close()
        if local is not None:
            local.close()


def _on_dask(client, specs: list[RunSpec], queue: Queue, workers: int):
    """The queue's runs on the cluster, one at a time on each worker: a worker without a run is
    given the one ``Queue.take`` picks for it, pinned to it (Dask moves it when that worker is
    lost). Waits for ``workers`` workers first, and for one whenever none is left; workers that
    join later are fed too."""
    from distributed import as_completed

    running: dict = {}  # future -> (run index, worker)

    def feed(finished_) -> None:
        busy = {worker for _, worker in running.values()}
        for worker in client.scheduler_info()["workers"]:
            if queue and worker not in busy:
                index = queue.take(worker)
                key = f"motive-run-{Path(specs[index].folder).name}-{time.time_ns()}"
                future = client.submit(
                    execute_on_worker, specs[index], pure=False, key=key, workers=[worker], allow_other_workers=True
                )
                running[future] = index, worker
                finished_.add(future)

    needed = workers
    while queue:  # again only when every worker was lost while runs were waiting
        client.wait_for_workers(needed)
        needed, finished_ = 1, as_completed()
        feed(finished_)
        for future in finished_:
            index, _ = running.pop(future)
            try:
                outcome = future.result()
            except Exception as error:  # e.g. KilledWorker: the run took down every worker it was given
                outcome = {
                    "status": "failed",
                    "error": f"{type(error).__name__}: {error}".splitlines()[0],
                    "traceback": traceback.format_exc(),
                }
            feed(finished_)  # before the caller's work on this outcome: no worker waits for it
            yield index, outcome


# what decides a run's stage graphs (``motive.training.prepare`` keeps a worker's last ones, keyed
# exactly): runs that agree on these can share them
SHARED = (
    "data",
    "graph",
    "gene_type",
    "split",
    "split_seed",
    "split_dir",
    "final",
    "views",
    "link_view",
    "link_k",
    "side_edges",
    "structure_radius",
    "structure_bits",
    "device",
)


class Queue:
    """Runs waiting for a worker, in the grid's order. A worker takes the first run that can share
    the stage graphs of the last run it took (a grid whose split seed varies with the model seed
    lists a model's seeds together, so the models of one split seed would otherwise meet on a
    worker only by chance); else the first that no other worker's last run shares; else the
    first. The order changes which worker runs what, never a run's numbers."""

    def __init__(self, specs: list[RunSpec], indices: list[int]):
        self.keys = {
            index: json.dumps([specs[index].config.get(name) for name in SHARED], sort_keys=True, default=str)
            for index in indices
        }
        self.waiting = list(indices)
        self.last: dict[str, str] = {}  # worker -> the key of the last run it took

    def __bool__(self) -> bool:
        return bool(self.waiting)

    def take(self, worker: str) -> int:
        others = {key for name, key in self.last.items() if name != worker}
        mine = self.last.get(worker)
        chosen = next((i for i in self.waiting if self.keys[i] == mine), None)
        if chosen is None:
            chosen = next((i for i in self.waiting if self.keys[i] not in others), self.waiting[0])
        self.waiting.remove(chosen)
        self.last[worker] = self.keys[chosen]
        return chosen
