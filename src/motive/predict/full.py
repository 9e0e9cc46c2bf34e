"""``predict_all``: every compound against every gene in blocks, resumable, the top of each row and
of each column kept."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from motive.evaluation import calibration
from motive.predict.evidence import evidence_of_ids
from motive.predict.known import KnownPairs
from motive.predict.load import Predictor, load_predictor, read_profiles
from motive.predict.nodes import extend_stage


def predict_all(
    run: str | Path,
    out: str | Path,
    *,
    compounds: str | Path | pd.DataFrame | None = None,
    genes: str | Path | pd.DataFrame | None = None,
    top_k: int = 50,
    exclude_known: bool = False,
    block: int = 1024,
    device: str = "auto",
    overwrite: bool = False,
    progress: bool = True,
    data: str | Path | None = None,
    allow_existing: bool = False,
    plugins: list | tuple = (),  # plugin files to load (never the ones a run folder names)
) -> dict:
    """Every compound x every gene (the graph's, or the given profile tables'), streamed in blocks
    of compounds: keeps the ``top_k`` genes per compound and the ``top_k`` compounds per gene, in
    memory bounded by the block and k whatever the matrix size. Finished blocks are kept in a work
    folder beside ``out`` (``.NAME.motive-work-KEY``), so a crashed run resumes where it stopped.
    Writes ``out/per_compound.parquet``, ``out/per_gene.parquet`` and ``out/summary.json``."""
    from tqdm import tqdm

    from motive import outputs

    started = time.perf_counter()
    outputs.check_target(out, "full_predictions", overwrite)
    loaded = load_predictor(run, device, data, plugins)
    queries = _full_queries(loaded, compounds, genes, allow_existing)
    ids = queries.ids
    n_compounds, n_genes = len(ids["source"]), len(ids["target"])
    genes_kept, compounds_kept = min(top_k, n_genes), min(top_k, n_compounds)  # per compound, per gene
    settings = [genes_kept, compounds_kept, exclude_known, block, allow_existing, loaded.graph.content_hash()]
    work = outputs.work_dir(out, _resume_key(run, queries, settings))
    known = KnownPairs(loaded)
    known_ids = np.divmod(known.keys, known.n_targets)  # every known pair's compound and gene ids
    gene_position = np.full(max(ids["target"].max() + 1, 1), -1)
    gene_position[ids["target"]] = np.arange(n_genes)
    state_path = work / "genes-state.npz"
    done, gene_scores, gene_rows = _resumed(state_path, (compounds_kept, n_genes))
    n_blocks = (n_compounds + block - 1) // block
    bar = tqdm(total=n_blocks, initial=done, unit="block", desc="scoring", disable=not progress)
    blocks = loaded.model.score_blocks(
        queries.stage, "source", ids["source"][done * block :], ids["target"], block=block
    )
    for index, (_, scores) in enumerate(blocks, start=done):
        scores = np.asarray(scores, np.float64)
        first = index * block
        rows = ids["source"][first : first + len(scores)]
        if exclude_known:  # known pairs of this block's compounds drop out of both rankings
            _drop_known(scores, rows, known_ids, gene_position)
        positions = slice(first, first + len(scores))
        frame = _top_genes(scores, rows, positions, queries, genes_kept, known, loaded.calibration)
        frame["evidence"] = evidence_of_ids(
            queries.stage, "source", frame.pop("compound_id"), frame.pop("gene_id"), loaded
        )
        _write_atomically(frame, work / f"compounds-{index:06d}.parquet")
        gene_scores, gene_rows = _merge_top_compounds(gene_scores, gene_rows, scores, first, compounds_kept)
        with outputs.cache_file(state_path) as tmp:
            np.savez(tmp, done=index + 1, scores=gene_scores, rows=gene_rows)
        bar.update(1)
    bar.close()
    summary = {
        "run": str(run),
        "compounds": n_compounds,
        "genes": n_genes,
        "top_k": top_k,
        "genes_per_compound": genes_kept,
        "compounds_per_gene": compounds_kept,
        "exclude_known": exclude_known,
        "blocks": n_blocks,
        "seconds": round(time.perf_counter() - started, 1),
        "score": "ranking score of the run's model (not a probability)",
    }
    gene_table = _top_compounds(gene_scores, gene_rows, queries, compounds_kept, known)
    gene_ids, compound_ids = gene_table.pop("gene_id"), gene_table.pop("compound_id")
    gene_table["evidence"] = evidence_of_ids(queries.stage, "target", gene_ids, compound_ids, loaded)
    _write_full(out, overwrite, work, n_blocks, gene_table, summary)
    outputs.remove_work_dir(work, [state_path.name, *(f"compounds-{index:06d}.parquet" for index in range(n_blocks))])
    return summary


def _resumed(state_path: Path, shape: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray]:
    """Blocks done and every gene's running top compounds (scores, rows), from the work folder's
    state or fresh."""
    if state_path.exists():
        state = np.load(state_path)
        return int(state["done"]), state["scores"], state["rows"]
    return 0, np.full(shape, -np.inf), np.zeros(shape, np.int64)


@dataclass
class FullQueries:
    """The compounds and genes of a full matrix: keys and node ids per side, the stage they are
    scored in (new nodes added), and the profiles given (none for the graph's own nodes)."""

    stage: object
    keys: dict[str, object]
    ids: dict[str, np.ndarray]
    profiles: dict[str, np.ndarray]


def _full_queries(loaded: Predictor, compounds, genes, allow_existing: bool) -> FullQueries:
    stage, keys, ids, profiles = loaded.stage, {}, {}, {}
    for side, table in (("source", compounds), ("target", genes)):
        nodes = loaded.graph.sources if side == "source" else loaded.graph.targets
        if table is None:
            keys[side], ids[side] = nodes.keys, np.arange(len(nodes))
        else:
            keys[side], x, _ = read_profiles(table, side, loaded.feature_names[side])
            stage, ids[side] = extend_stage(loaded, stage, side, keys[side], x, allow_existing=allow_existing)
            profiles[side] = x
    return FullQueries(stage, keys, ids, profiles)


def _resume_key(run: str | Path, queries: FullQueries, settings: list) -> str:
    """Everything that changes the output (the model, the queries' keys and profiles, the
    settings), so finished blocks of another input are never mixed in."""
    digest = hashlib.sha256(Path(run, "checkpoint.pt").read_bytes())
    for side in ("source", "target"):
        digest.update(np.asarray(queries.keys[side], dtype=str).astype("U").tobytes())
        if side in queries.profiles:
            digest.update(np.ascontiguousarray(queries.profiles[side], np.float64).tobytes())
    digest.update(json.dumps(settings).encode())
    return digest.hexdigest()[:16]


def _drop_known(scores: np.ndarray, rows: np.ndarray, known_ids: tuple, gene_position: np.ndarray) -> None:
    """Set the scores of the known pairs (``known_ids``: compound and gene ids) of a block (compound
    ``rows`` x every gene; ``gene_position``: a gene id's column) to -inf."""
    known_s, known_t = known_ids
    in_block = np.flatnonzero(np.isin(known_s, rows))
    row_order = np.argsort(rows)
    pair_row = row_order[np.searchsorted(rows, known_s[in_block], sorter=row_order)]
    genes_known = known_t[in_block]
    pair_col = np.where(
        genes_known < len(gene_position), gene_position[np.minimum(genes_known, len(gene_position) - 1)], -1
    )
    scores[pair_row[pair_col >= 0], pair_col[pair_col >= 0]] = -np.inf


def _top_genes(
    scores: np.ndarray,
    rows: np.ndarray,
    positions: slice,
    queries: FullQueries,
    top_k: int,
    known: KnownPairs,
    bins: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The top-k genes of each compound of a block, best first (excluded known pairs: fewer rows)."""
    best = top_columns(scores, top_k)
    best_scores = np.take_along_axis(scores, best, axis=1)
    frame = pd.DataFrame(
        {
            "compound": np.repeat(np.asarray(queries.keys["source"])[positions], top_k),
            "gene": np.asarray(queries.keys["target"])[best.ravel()],
            "score": best_scores.ravel(),
            "rank": np.tile(np.arange(1, top_k + 1), len(scores)),
            "known": known.flags(np.repeat(rows, top_k), queries.ids["target"][best.ravel()]),
            "compound_id": np.repeat(rows, top_k),
            "gene_id": queries.ids["target"][best.ravel()],
        }
    )
    if bins is not None:  # a place among the unknown genes: the rank less the known ones above it
        unknown = (frame["known"].to_numpy() == "none").reshape(-1, top_k)
        place = (np.cumsum(unknown, axis=1)).ravel().astype(float)
        values = calibration.expected(bins, place)
        for name, value in zip(
            ("expected_precision", "expected_precision_low", "expected_precision_high"), values, strict=True
        ):
            frame[name] = np.where(unknown.ravel(), value, np.nan)
    return frame[np.isfinite(frame["score"].to_numpy())]


def _merge_top_compounds(
    gene_scores: np.ndarray, gene_rows: np.ndarray, scores: np.ndarray, first: int, top_k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The running top-k compounds of every gene, with a block's scores merged in."""
    # the running top first: its compounds come from earlier blocks, so a tie keeps the first compound
    merged = np.concatenate([gene_scores, scores])
    keep = top_columns(np.ascontiguousarray(merged.T), top_k).T  # rows of merged
    kept = len(gene_scores)
    earlier = np.take_along_axis(gene_rows, np.minimum(keep, kept - 1), axis=0)
    return np.take_along_axis(merged, keep, axis=0), np.where(keep < kept, earlier, keep - kept + first)


def top_columns(scores: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` best columns, best first, a tie in column order: ``np.argsort(-scores,
    axis=1, kind="stable")[:, :k]`` without sorting whole rows. torch's top-k gives each row's k+1
    best; where the k-th and the (k+1)-th tie, the columns above the k-th score and the first
    columns equal to it make the k (a row of ties, as a heuristic's zeros, costs one more pass)."""
    import torch

    if k >= scores.shape[1]:
        return np.argsort(-scores, axis=1, kind="stable")
    values = torch.from_numpy(scores)
    best = torch.topk(values, k + 1, dim=1)
    columns = best.indices[:, :k].numpy().copy()
    tied = (best.values[:, k - 1] == best.values[:, k]).nonzero().ravel()
    if len(tied):
        rows, kth = values[tied], best.values[tied, k - 1 : k]
        above, equal = rows > kth, rows == kth
        need = k - above.sum(1, keepdim=True)
        chosen = above | (equal & (equal.cumsum(1) <= need))
        columns[tied.numpy()] = chosen.nonzero(as_tuple=True)[1].numpy().reshape(len(tied), k)
    order = np.lexsort((columns, -np.take_along_axis(scores, columns, axis=1)))  # along each row
    return np.take_along_axis(columns, order, axis=1)


def _top_compounds(
    gene_scores: np.ndarray, gene_rows: np.ndarray, queries: FullQueries, top_k: int, known: KnownPairs
) -> pd.DataFrame:
    """The per-gene table, best compound first. A gene with fewer than top_k candidates left
    (excluded known pairs) has fewer rows: no -inf score, no placeholder row repeated."""
    order = np.argsort(-gene_scores, axis=0, kind="stable")
    gene_scores, gene_rows = (
        np.take_along_axis(gene_scores, order, axis=0),
        np.take_along_axis(gene_rows, order, axis=0),
    )
    ids, keys = queries.ids, queries.keys
    table = pd.DataFrame(
        {
            "gene": np.repeat(np.asarray(keys["target"]), top_k),
            "compound": np.asarray(keys["source"])[gene_rows.T.ravel()],
            "score": gene_scores.T.ravel(),
            "rank": np.tile(np.arange(1, top_k + 1), len(ids["target"])),
            "known": known.flags(ids["source"][gene_rows.T.ravel()], np.repeat(ids["target"], top_k)),
            "gene_id": np.repeat(ids["target"], top_k),
            "compound_id": ids["source"][gene_rows.T.ravel()],
        }
    )
    return table[np.isfinite(table["score"].to_numpy())].reset_index(drop=True)


def _write_full(out, overwrite: bool, work: Path, n_blocks: int, gene_table: pd.DataFrame, summary: dict) -> None:
    """The output folder: the finished blocks as one per_compound.parquet, per_gene.parquet, summary.json."""
    import pyarrow.parquet as pq

    from motive import marks, outputs

    metadata = marks.parquet_metadata("full_predictions")
    with outputs.output_dir(out, "full_predictions", overwrite) as tmp:
        writer = None
        for index in range(n_blocks):
            table = pq.read_table(work / f"compounds-{index:06d}.parquet")
            if writer is None:
                writer = pq.ParquetWriter(tmp / "per_compound.parquet", table.schema.with_metadata(metadata))
            writer.write_table(table.replace_schema_metadata(metadata))
        writer.close()
        marks.write_marked_parquet(gene_table, tmp / "per_gene.parquet", "full_predictions")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


def _write_atomically(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from motive import outputs

    with outputs.cache_file(path) as tmp:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
