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
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from motive import checks, layout, metrics, splits
from motive.audit import audited_split_from_tables, load_audited_split, make_audited_split
from motive.errors import MotiveError
from motive.graph import Graph
from motive.models import StageGraph, build_model, check_model, load_plugins
from motive.negatives import NegativeSampler
from motive.outputs import check_target, output_dir
from motive.splits import STAGES

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data: str  # dataset folder (official layout)
    graph: str = "st_expanded"
    split: str = "random"  # with split_dir: taken from the folder (random / source / target / zero_shot) or its labels
    model: str = "gin_cp"
    model_kwargs: dict = field(default_factory=dict)  # e.g. {"hidden": 128}
    seed: int = 0  # model seed: initialisation and batch order
    split_seed: int = 0  # the split is fixed across model seeds (paper)
    gene_type: str = "orf"
    epochs: int = 1000  # paper: 1000
    patience: int = 50  # epochs without validation improvement before stopping
    # Supervision edges per step. The paper used 512 with sampled neighbourhoods; with exact
    # full-graph message passing a step costs the same for any batch size, and 2048 trains as
    # well at a third of the time per epoch (benchmarks/README.md). Pass 512 for the paper setting.
    batch_size: int = 2048
    lr: float = 1e-3
    weight_decay: float = 1e-4
    train_negative_ratio: int = 1  # paper: 1:1
    monitor: str = "hits"  # validation metric picking the best epoch: hits (@hits_k), auprc, auroc, bce
    hits_k: int = 500  # paper: 500 (about 1% of MOTIVE's test pairs)
    mode: str = "full"  # "full" graph message passing, or "neighbor" sampled 2-hop subgraphs
    fanouts: tuple[int, int] = (15, 10)  # neighbours per hop in neighbor mode (-1 = all)
    device: str = "auto"  # "cpu", "cuda" or "auto" (cuda when available); runs are bitwise reproducible on CPU only
    # "bce" (paper: binary cross-entropy on 1:1 negatives) or "bpr" (each positive against one
    # negative of the same query node; scores are then ranking scores, not calibrated logits)
    loss: str = "bce"
    split_dir: str | None = None  # train on official split tables in this folder (audited) instead of making a split
    ranking_eval: bool = (
        False  # also rank every visible candidate per query node (filtered; metrics "full_*", ranking.parquet)
    )
    plugins: list[str] = field(
        default_factory=list
    )  # Python files registering custom models (motive.models.register_model)
    # Torch threads of the run. Its numbers depend on it (a reduction split over two threads
    # rounds differently from one over one), so the default 1 gives the same bytes alone, in a
    # grid and on a Dask worker; a grid runs several runs at once instead. More is faster for one
    # long run, with numbers of its own.
    threads: int = 1

    def __post_init__(self) -> None:
        for name, check in (
            ("epochs", checks.positive_int),
            ("patience", checks.positive_int),
            ("batch_size", checks.positive_int),
            ("hits_k", checks.positive_int),
            ("threads", checks.positive_int),
            ("train_negative_ratio", checks.positive_int),
            ("seed", checks.nonnegative_int),
            ("split_seed", checks.nonnegative_int),
            ("lr", checks.positive_float),
            ("weight_decay", checks.nonnegative_float),
            ("model_kwargs", checks.json_object),
        ):
            setattr(self, name, checks.named(name, check, getattr(self, name)))
        self.data = str(Path(self.data).resolve())  # absolute, so a run folder works from any folder
        if self.split_dir is not None:
            self.split_dir = str(self.split_dir)
        if self.monitor not in ("hits", "auprc", "auroc", "bce"):
            raise MotiveError(f"unknown monitor {self.monitor!r}; expected hits, auprc, auroc or bce")
        if self.loss not in ("bce", "bpr"):
            raise MotiveError(f"loss: unknown loss {self.loss!r}; expected bce or bpr")
        if self.device not in ("auto", "cpu", "cuda"):
            raise MotiveError(f"device: unknown device {self.device!r}; expected auto, cpu or cuda")
        if self.mode not in ("full", "neighbor"):
            raise MotiveError(f"unknown mode {self.mode!r}; expected 'full' or 'neighbor'")
        self.fanouts = tuple(self.fanouts)
        self.plugins = [str(Path(path).resolve()) for path in self.plugins]
        load_plugins(self.plugins)  # before anything looks the model up


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Torch's intra-op thread count set to ``count`` inside the block, restored after it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def environment(config: TrainConfig) -> dict:
    """What besides the config decides a run's numbers (recorded in metrics.json): on one machine
    the same config and environment give byte-identical metrics; another CPU or library version
    may round differently."""
    return {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "threads": config.threads,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "deterministic": resolve_device(config.device).type == "cpu",
    }


def resolve_device(name: str) -> torch.device:
    """``auto`` is cuda when a GPU is visible, else cpu; asking for cuda without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise MotiveError("device: cuda was asked for but no CUDA GPU is visible here; use --device cpu or auto")
    return torch.device(name)


def load_split(graph: Graph, config: TrainConfig) -> splits.Split:
    """The saved split of (graph, split, split_seed), created and audited if absent; or the
    audited split of ``split_dir``'s official tables."""
    from motive.datasets.registry import default_cache_dir

    if config.split_dir is not None:
        return audited_split_from_tables(graph, config.split_dir, config.split_seed, default_cache_dir() / "splits")
    split_config = splits.SplitConfig(config.split, config.split_seed)
    folder = splits.default_dir(config.data, config.graph, split_config, config.gene_type)
    if (folder / "split.json").exists():  # stored: audited again before use (cached by content hash)
        return load_audited_split(folder, graph, default_cache_dir() / "splits")
    try:
        return make_audited_split(graph, split_config, folder)[0]
    except MotiveError:
        if (folder / "split.json").exists():  # another process (a tune or Dask worker) made the same split meanwhile
            return load_audited_split(folder, graph, default_cache_dir() / "splits")
        raise


def eval_pairs(graph: Graph, split: splits.Split, stage: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s, t = split.supervision(graph, stage)
    negatives = split.negatives[stage]
    sources = np.concatenate([s, negatives["source"].to_numpy(np.int64)])
    targets = np.concatenate([t, negatives["target"].to_numpy(np.int64)])
    labels = np.r_[np.ones(len(s), np.int8), np.zeros(len(negatives), np.int8)]
    return sources, targets, labels


def query_side(split_name: str) -> str:
    """The side a prediction is asked for: the held-out genes of cold_target, compounds otherwise."""
    return "target" if split_name == "cold_target" else "source"


def query_nodes(split_name: str, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """MRR's query nodes (see ``query_side``)."""
    return targets if query_side(split_name) == "target" else sources


def monitor_value(name: str, scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Higher is better (BCE is negated)."""
    functions = {
        "hits": lambda: metrics.hits_at_k(scores, labels, k),
        "auprc": lambda: metrics.auprc(scores, labels),
        "auroc": lambda: metrics.auroc(scores, labels),
        "bce": lambda: -metrics.bce(scores, labels),
    }
    return functions[name]()


def fit(config: TrainConfig, graph: Graph, split: splits.Split, stages: dict[str, StageGraph], on_epoch=None):
    """Train; return (model at its best epoch, history rows, best epoch). ``on_epoch(epoch,
    validation value)`` is called after every epoch (a tuner prunes from it by raising)."""
    with torch_threads(config.threads):
        return _fit(config, graph, split, stages, on_epoch)


def _fit(config: TrainConfig, graph: Graph, split: splits.Split, stages: dict[str, StageGraph], on_epoch=None):
    device = stages["train"].device
    # Same seed, same numbers on CPU (MKL otherwise varies in the last bits); CUDA's scatter
    # kernels have no deterministic variant, so GPU runs agree only to rounding.
    torch.use_deterministic_algorithms(device.type == "cpu")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = build_model(config.model, stages["train"], **config.model_kwargs)
    if not model.trainable:
        return model, [], 0
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sampler = NegativeSampler(graph, split, "train")
    train_s, train_t = split.supervision(graph, "train")
    if len(train_s) == 0:
        raise MotiveError("the split has no training supervision edges")
    valid_s, valid_t, valid_labels = eval_pairs(graph, split, "valid")
    neighbor = NeighborBatches(stages["train"], config.fanouts) if config.mode == "neighbor" else None
    best, best_epoch, best_state, history = -np.inf, 0, copy.deepcopy(model.state_dict()), []
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        model.train()
        order = rng.permutation(len(train_s))
        losses = []
        for start in range(0, len(order), config.batch_size):
            batch = order[start : start + config.batch_size]
            pos_s, pos_t = train_s[batch], train_t[batch]
            if config.loss == "bpr":
                neg_s, neg_t, kept = sampler.corrupt(pos_s, pos_t, query_side(config.split), rng)
                pos_s, pos_t = pos_s[kept], pos_t[kept]
            else:
                neg_s, neg_t = sampler.sample(pos_s, pos_t, config.train_negative_ratio, rng)
            sources, targets = np.concatenate([pos_s, neg_s]), np.concatenate([pos_t, neg_t])
            if neighbor is None:
                logits = model(
                    stages["train"], torch.as_tensor(sources, device=device), torch.as_tensor(targets, device=device)
                )
            else:
                logits = neighbor.forward(model, sources, targets, rng)
            if config.loss == "bpr":  # Rendle et al. 2009: -log sigmoid(score(positive) - score(its negative))
                loss = -F.logsigmoid(logits[: len(pos_s)] - logits[len(pos_s) :]).mean()
            else:
                labels = torch.cat([torch.ones(len(pos_s), device=device), torch.zeros(len(neg_s), device=device)])
                loss = F.binary_cross_entropy_with_logits(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        train_seconds = time.perf_counter() - started
        valid_scores = model.score(stages["valid"], valid_s, valid_t)
        value = monitor_value(config.monitor, valid_scores, valid_labels, config.hits_k)
        monitor_name = f"hits@{config.hits_k}" if config.monitor == "hits" else config.monitor
        history.append(
            {
                "epoch": epoch,
                "train_loss": float(np.mean(losses)),
                f"valid_{monitor_name}": value,
                "train_seconds": train_seconds,
                "seconds": time.perf_counter() - started,
            }
        )
        if value > best:
            best, best_epoch, best_state = value, epoch, copy.deepcopy(model.state_dict())
        if on_epoch is not None:
            on_epoch(epoch, value)
        if epoch % 10 == 0 or epoch == 1:
            log.info(
                "epoch %d: loss %.4f, valid %s %.4f (best %.4f at %d)",
                epoch,
                history[-1]["train_loss"],
                monitor_name,
                value,
                best,
                best_epoch,
            )
        if epoch - best_epoch >= config.patience:
            log.info("early stop at epoch %d; best epoch %d", epoch, best_epoch)
            break
    model.load_state_dict(best_state)
    return model, history, best_epoch


def ranking_evaluation(
    graph: Graph, split: splits.Split, stage_graph: StageGraph, model, split_name: str
) -> pd.DataFrame:
    """Filtered full ranking of one stage (``metrics`` states the rules): every query node of the
    stage's positives is scored against every node of the other side the stage may see, and each
    positive is ranked among the candidates that are not a known positive of any stage. One row per
    positive: query, partner, score, optimistic / pessimistic / realistic rank, candidates."""
    stage = stage_graph.stage
    side = query_side(split_name)
    other = "target" if side == "source" else "source"
    s, t = split.supervision(graph, stage)
    query_ends, partner_ends = (s, t) if side == "source" else (t, s)
    order = np.argsort(query_ends, kind="stable")
    query_ends, partner_ends = query_ends[order], partner_ends[order]
    queries = np.unique(query_ends)
    candidates = np.flatnonzero(split.node_stage[other] <= STAGES.index(stage))
    position = np.full(len(graph.targets) if other == "target" else len(graph.sources), -1)
    position[candidates] = np.arange(len(candidates))
    all_s, all_t = graph.endpoints("st")
    known_query, known_partner = (all_s, all_t) if side == "source" else (all_t, all_s)
    known_order = np.argsort(known_query, kind="stable")
    known_query, known_partner = known_query[known_order], known_partner[known_order]
    rows = []
    for start, block in model.score_blocks(stage_graph, side, queries, candidates):
        for offset, scores in enumerate(block):
            query = queries[start + offset]
            lo, hi = np.searchsorted(query_ends, [query, query + 1])
            positive = position[partner_ends[lo:hi]]
            k_lo, k_hi = np.searchsorted(known_query, [query, query + 1])
            known = position[known_partner[k_lo:k_hi]]
            keep = np.ones(len(candidates), bool)
            keep[known[known >= 0]] = False
            optimistic, pessimistic = metrics.filtered_ranks(scores[keep], scores[positive])
            rows.append(
                (
                    np.full(hi - lo, query),
                    partner_ends[lo:hi],
                    scores[positive],
                    optimistic,
                    pessimistic,
                    np.full(hi - lo, keep.sum()),
                )
            )
    query, partner, score, optimistic, pessimistic, count = (
        np.concatenate(column) for column in zip(*rows, strict=True)
    )
    keys = {"source": graph.sources.keys.to_numpy(), "target": graph.targets.keys.to_numpy()}
    return pd.DataFrame(
        {
            "stage": stage,
            "query_side": side,
            "query": keys[side][query],
            "partner": keys[other][partner],
            "score": score,
            "rank_optimistic": optimistic,
            "rank_pessimistic": pessimistic,
            "rank": (optimistic + pessimistic) / 2,
            "candidates": count,
        }
    )


def evaluate_stages(
    config: TrainConfig,
    graph: Graph,
    split: splits.Split,
    stages: dict[str, StageGraph],
    model,
    timing: dict | None = None,
):
    """Scores, metrics and per-node AP of valid and test (and the filtered full ranking when
    asked); the threshold comes from valid. ``timing`` receives the full ranking's seconds per
    stage (timings stay out of the metrics, which are the same bytes for the same config)."""
    results, predictions, per_node, rankings = {}, [], [], []
    threshold = None
    seen = _seen_in_training(graph, split)
    for stage in ("valid", "test"):
        sources, targets, labels = eval_pairs(graph, split, stage)
        scores = model.score(stages[stage], sources, targets)
        if threshold is None:
            threshold = metrics.best_threshold(scores, labels)
        results[stage] = metrics.evaluate(
            scores, labels, threshold, query_nodes(config.split, sources, targets), config.hits_k
        )
        predictions.append(
            pd.DataFrame(
                {
                    "source": graph.sources.keys.to_numpy()[sources],
                    "target": graph.targets.keys.to_numpy()[targets],
                    "score": scores,
                    "label": labels,
                    "stage": stage,
                }
            )
        )
        for side, nodes, keys in (("source", sources, graph.sources.keys), ("target", targets, graph.targets.keys)):
            table = metrics.average_precision_per_node(scores, labels, nodes)
            table.insert(0, "node_type", side)
            table.insert(0, "stage", stage)
            table["seen"] = seen[side][table["node"].to_numpy(np.int64)]
            table["node"] = keys.to_numpy()[table["node"].to_numpy(np.int64)]
            per_node.append(table)
            for flag, group in table.groupby("seen"):
                results[stage][f"{side}_map_{'seen' if flag else 'unseen'}"] = float(group["ap"].mean())
            results[stage][f"{side}_map"] = float(table["ap"].mean()) if len(table) else float("nan")
        if config.ranking_eval:
            started = time.perf_counter()
            rankings.append(ranking_evaluation(graph, split, stages[stage], model, config.split))
            results[stage] |= {f"full_{name}": value for name, value in metrics.ranking_metrics(rankings[-1]).items()}
            if timing is not None:
                timing[stage] = round(time.perf_counter() - started, 2)
    ranking = pd.concat(rankings, ignore_index=True) if rankings else None
    return results, pd.concat(predictions, ignore_index=True), pd.concat(per_node, ignore_index=True), ranking


def _seen_in_training(graph: Graph, split: splits.Split) -> dict[str, np.ndarray]:
    """Nodes that appear in any train-stage edge (message passing or supervision)."""
    seen = {"source": np.zeros(len(graph.sources), bool), "target": np.zeros(len(graph.targets), bool)}
    for (src, _, dst), (a, b) in split.message_passing(graph, "train").items():
        seen[src][a] = True
        seen[dst][b] = True
    s, t = split.supervision(graph, "train")
    seen["source"][s] = True
    seen["target"][t] = True
    return seen


def validation_view(split: splits.Split) -> splits.Split:
    """The split as a hyper-parameter search may see it: test supervision edges withheld (they
    pass no messages before the test stage either) and no test negatives, so nothing that
    selects settings can read a test pair."""
    st = np.where(split.subsets["st"] == "test", "withheld", split.subsets["st"])
    return replace(split, subsets=split.subsets | {"st": st}, negatives={"valid": split.negatives["valid"]})


def prepare(config: TrainConfig, expected_hash: str | None = None, stage_names: tuple[str, ...] = splits.STAGES):
    """The graph (and its hash), its split and the stage graphs a run works on (all three, or
    ``stage_names``), the stages' tensors already on the run's device (moved once). Without the
    test stage the split is reduced to its ``validation_view`` before anything uses it."""
    device = resolve_device(config.device)
    graph = layout.read_graph(layout.graph_dir(config.data, config.graph, config.gene_type))
    graph_hash = graph.content_hash()
    if expected_hash is not None and graph_hash != expected_hash:
        raise MotiveError(f"{config.data}: graph changed since the run (hash {expected_hash[:12]}); retrain")
    split = load_split(graph, config)
    if "test" not in stage_names:
        split = validation_view(split)
    for stage in [name for name in ("valid", "test") if name in split.negatives]:
        if len(split.negatives[stage]) < config.hits_k:
            raise MotiveError(
                f"hits@{config.hits_k} needs at least {config.hits_k} negatives, the {stage} set has "
                f"{len(split.negatives[stage])}; "
                "pass a smaller --hits-k (the paper's 500 is ~1% of MOTIVE's test pairs)"
            )
    stages = {stage: StageGraph.build(graph, split, stage).to(device) for stage in stage_names}
    return graph, graph_hash, split, stages


TIMING = ("seconds", "seconds_per_epoch")  # run-level fields of timing.json, not metrics.json


def run(config: TrainConfig, out: str | Path, overwrite: bool = False, marker: dict | None = None) -> dict:
    """Train and evaluate one (model, split, seed); write the run directory atomically
    (``marker``: extra fields for its motive.json, e.g. an experiment's config hash). Returns the
    summary: metrics.json's content plus the timings of timing.json."""
    with torch_threads(config.threads):
        return _run(config, out, overwrite, marker)


def _run(config: TrainConfig, out: str | Path, overwrite: bool, marker: dict | None) -> dict:
    started = time.perf_counter()
    check_target(out, "run", overwrite)  # fail now, not after training
    if config.split_dir is None:
        check_model(config.model, config.split)
    graph, graph_hash, split, stages = prepare(config)
    if config.split_dir is not None:
        config = replace(config, split=split.config.split)  # the folder says which split it is
        check_model(config.model, config.split)
    model, history, best_epoch = fit(config, graph, split, stages)
    full_seconds: dict[str, float] = {}
    results, predictions, per_node, ranking = evaluate_stages(config, graph, split, stages, model, full_seconds)
    timing = {
        "seconds": round(time.perf_counter() - started, 2),
        "seconds_per_epoch": round(float(np.mean([h["seconds"] for h in history])), 4) if history else 0.0,
        "full_seconds": full_seconds,
    }
    # Timings live in timing.json, so metrics.json is the same bytes for the same config.
    summary = {
        "config": asdict(config),
        "best_epoch": best_epoch,
        "epochs_run": len(history),
        "graph_hash": graph_hash,
        "device": str(stages["train"].device),
        "environment": environment(config),
        "split": {
            "name": config.split,
            "seed": config.split_seed,
            "graph_hash": split.graph_hash,
            "dir": config.split_dir,
        },
        "valid": results["valid"],
        "test": results["test"],
    }
    with output_dir(out, "run", overwrite, **(marker or {})) as tmp:
        (tmp / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
        (tmp / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
        (tmp / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")
        pd.DataFrame(history).to_csv(tmp / "history.csv", index=False)
        predictions.to_parquet(tmp / "predictions.parquet", index=False)
        per_node.to_parquet(tmp / "per_node_ap.parquet", index=False)
        if ranking is not None:
            ranking.to_parquet(tmp / "ranking.parquet", index=False)
        checkpoint = {"config": asdict(config), "seed": config.seed, "graph_hash": graph_hash, "best_epoch": best_epoch}
        if model.trainable:
            checkpoint["state_dict"] = {name: value.detach().cpu() for name, value in model.state_dict().items()}
        torch.save(checkpoint, tmp / "checkpoint.pt")
    return summary | {name: timing[name] for name in TIMING}


def read_run(run_dir: str | Path, device: str = "auto", data: str | Path | None = None) -> tuple[TrainConfig, dict]:
    """The config and checkpoint of a run folder, read as untrusted input: tensors and plain data
    only (``weights_only``: a checkpoint that would run code is refused, and nothing in it runs),
    with its fields checked. ``data`` points at a moved copy of the run's dataset (its graph hash
    must match)."""
    path = Path(run_dir) / "checkpoint.pt"
    if not path.is_file():
        raise MotiveError(f"{path}: file not found; not a run directory made by `motive train`")
    try:
        checkpoint = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        reason = next(
            (line for line in lines if "GLOBAL" in line or "Unsupported" in line), lines[-1] if lines else ""
        )[:160]
        raise MotiveError(
            f"{path}: refused, it holds more than tensors and plain data ({reason}); motive never runs code from a "
            "checkpoint"
        ) from None
    except Exception as error:  # truncated, empty, not a torch file
        raise MotiveError(
            f"{path}: unreadable checkpoint ({type(error).__name__}); the file is truncated or was not written by "
            "`motive train`"
        ) from None
    if (
        not isinstance(checkpoint, dict)
        or not isinstance(checkpoint.get("config"), dict)
        or not isinstance(checkpoint.get("graph_hash"), str)
    ):
        raise MotiveError(
            f"{path}: not a motive checkpoint (config or graph_hash missing); retrain with `motive train`"
        )
    settings = checkpoint["config"] | {"device": device}
    if data is not None:
        settings["data"] = str(data)
    unknown = sorted(set(settings) - {f.name for f in fields(TrainConfig)})
    if unknown:
        raise MotiveError(
            f"{path}: unknown setting {unknown[0]!r} in the checkpoint's config; it was written by another motive "
            "version"
        )
    try:
        config = TrainConfig(**settings)
    except TypeError as error:
        raise MotiveError(f"{path}: bad config in the checkpoint ({error})") from None
    if data is None and not Path(config.data).is_dir():
        raise MotiveError(
            f"{config.data}: the run's dataset folder is not there (moved?); give its new place as data (`--data DIR`)"
        )
    return config, checkpoint


def load_weights(model, checkpoint: dict, path: str | Path) -> None:
    """Load a checkpoint's weights into ``model`` (one line when they do not fit it, e.g. a plugin
    whose defaults changed since training)."""
    if not model.trainable:
        return
    state = checkpoint.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise MotiveError(
            f"{path}: the checkpoint has no weights (state_dict) for model {checkpoint['config'].get('model')!r}; "
            "retrain"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[1 if len(str(error).splitlines()) > 1 else 0].strip()
        raise MotiveError(
            f"{path}: the weights do not fit the model as it is built now ({first}); did the model or its plugin "
            "change since training?"
        ) from None


def evaluate_run(run_dir: str | Path, device: str = "auto", data: str | Path | None = None) -> dict:
    """Re-score a run from its checkpoint on its split (on ``device``; ``data``: a moved copy of
    its dataset); refuses if the data changed."""
    config, checkpoint = read_run(run_dir, device, data)
    with torch_threads(config.threads):
        graph, _, split, stages = prepare(config, checkpoint["graph_hash"])
        model = build_model(config.model, stages["train"], **config.model_kwargs)
        load_weights(model, checkpoint, Path(run_dir) / "checkpoint.pt")
        if model.trainable:
            model.to(stages["train"].device)
        results, _, _, _ = evaluate_stages(config, graph, split, stages, model)
    return results


class NeighborBatches:
    """Neighbour-sampled mini-batches without compiled extensions: for a batch of pairs, sample up
    to ``fanouts[h]`` incoming neighbours per node and hop over the stage's message edges, and run
    the model on the induced 2-hop subgraph (embedding tables are sliced to its nodes)."""

    def __init__(self, stage: StageGraph, fanouts: tuple[int, int]):
        self.stage, self.fanouts = stage, fanouts
        self.incoming = {}
        for relation, (a, b) in stage.edges.items():
            order = np.argsort(b, kind="stable")
            pointer = np.searchsorted(b[order], np.arange(stage.num_nodes[relation[2]] + 1))
            self.incoming[relation] = (pointer, a[order])

    def _sample(self, nodes: dict[str, np.ndarray], fanout: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Add up to ``fanout`` random incoming neighbours per node and relation (all if -1), vectorised."""
        found = {t: [v] for t, v in nodes.items()}
        for (src, _, dst), (pointer, neighbours) in self.incoming.items():
            starts = pointer[nodes[dst]]
            counts = pointer[nodes[dst] + 1] - starts
            total = int(counts.sum())
            if total == 0:
                continue
            segment = np.repeat(np.arange(len(starts)), counts)
            offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)  # position within its node
            positions = np.repeat(starts, counts) + offset
            if fanout >= 0:
                order = np.lexsort((rng.random(total), segment))  # shuffle within each node's neighbours
                rank = np.empty(total, np.int64)
                rank[order] = offset
                positions = positions[rank < fanout]
            found[src].append(neighbours[positions])
        return {t: np.unique(np.concatenate(v)) for t, v in found.items()}

    def subgraph(
        self, sources: np.ndarray, targets: np.ndarray, rng: np.random.Generator
    ) -> tuple[StageGraph, dict[str, np.ndarray]]:
        nodes = {"source": np.unique(sources), "target": np.unique(targets)}
        for fanout in self.fanouts:
            nodes = self._sample(nodes, fanout, rng)
        local = {t: np.full(self.stage.num_nodes[t], -1, np.int64) for t in nodes}
        for t, ids in nodes.items():
            local[t][ids] = np.arange(len(ids))
        edges = {}
        for relation, (a, b) in self.stage.edges.items():
            keep = (local[relation[0]][a] >= 0) & (local[relation[2]][b] >= 0)
            edges[relation] = (local[relation[0]][a[keep]], local[relation[2]][b[keep]])
        device = self.stage.device
        x = {t: self.stage.x[t][torch.as_tensor(ids, device=device)] for t, ids in nodes.items()}
        node_ids = {t: torch.as_tensor(ids, device=device) for t, ids in nodes.items()}
        return StageGraph.from_edges(self.stage.stage, self.stage.split_name, x, edges, node_ids).to(device), nodes

    def forward(self, model, sources: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        sub, nodes = self.subgraph(sources, targets, rng)
        z = model.encode(sub)
        local_s = np.searchsorted(nodes["source"], sources)
        local_t = np.searchsorted(nodes["target"], targets)
        return model.decode(z, torch.as_tensor(local_s, device=sub.device), torch.as_tensor(local_t, device=sub.device))
