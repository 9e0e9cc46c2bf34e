"""Splits as folders on disk, for the command line and for Python alike: make a split (or reuse
the identical one already there), write its TDC-style tables and the official layout's tables,
audit every split under a graph folder, and find a dataset's official split folder.

    result = split_folder("runs/l1000", "st_expanded", SplitConfig("cold_source", 0))
    print(result.report.to_markdown(), result.reused)
    for name, kind, report in audit_folders("runs/l1000/data/st_expanded/orf"):
        print(name, kind, report.passed)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from motive import marks, outputs, splits
from motive.data import layout
from motive.errors import MotiveError
from motive.names import OFFICIAL_NAMES
from motive.splits import audit
from motive.splits.files import default_dir, load_split, same_split, split_from_tables


@dataclass
class SplitFolder:
    """What ``split_folder`` did: the split, its audit, where it lives and whether it was reused."""

    split: splits.Split
    report: audit.Report
    folder: Path
    reused: bool
    frames: Path | None = None
    official: Path | None = None


def split_folder(
    data: str | Path,
    graph_type: str,
    config: splits.SplitConfig,
    *,
    gene_type: str = "orf",
    out: str | Path | None = None,
    frames: str | Path | None = None,
    eval_negatives: str = "uniform",
    export_official: str | Path | None = None,
    overwrite: bool = False,
) -> SplitFolder:
    """Make and audit the split of ``config`` in ``out`` (default: under the dataset), or reuse
    the identical split already there; a different one there is refused unless ``overwrite``.
    ``frames``: also write train/valid/test tables there; ``export_official``: also write the
    official layout's split tables (and the graph, into an empty dataset folder) there. Every
    target is checked before anything is written."""
    if frames:
        outputs.check_target(frames, "split_frames", overwrite)
    graph = layout.read_graph(layout.graph_dir(data, graph_type, gene_type))
    folder = Path(out) if out else default_dir(data, graph_type, config, gene_type)
    official = _official_target(export_official, graph, graph_type, gene_type, config.split, overwrite)
    reused = (folder / "split.json").is_file() and not overwrite
    if reused:  # the same split again is reused, not refused
        split = load_split(folder, graph)
        if not same_split(split, splits.make_split(graph, config)):
            raise MotiveError(
                f"{folder}: holds a different split (edited, or made with other settings); pass --overwrite to "
                "replace it"
            )
        report = audit.audit(graph, split)
    else:
        split, report = audit.make_audited_split(graph, config, folder, overwrite)
    if frames:
        with outputs.output_dir(frames, "split_frames", overwrite) as tmp:
            for stage, frame in split.to_frames(graph, eval_negatives).items():
                marks.write_marked_parquet(frame, tmp / f"{stage}.parquet", "split_frames")
    if official is not None:
        graph_folder, target, exists = official
        if not exists:
            layout.write_graph(graph, graph_folder)
        layout.write_split_tables(split.tables(graph), target, overwrite)
    return SplitFolder(split, report, folder, reused, Path(frames) if frames else None, official and official[1])


def _official_target(export: str | Path | None, graph, graph_type: str, gene_type: str, split: str, overwrite: bool):
    """(graph folder, split tables folder, whether the graph is there) of an official export,
    checked; None without one."""
    if not export:
        return None
    graph_folder = layout.graph_dir(export, graph_type, gene_type)
    exists = (graph_folder / "source.parquet").exists()
    if exists and layout.read_graph(graph_folder).content_hash() != graph.content_hash():
        raise MotiveError(f"{graph_folder}: holds a different graph; export to an empty folder")
    if not exists:
        outputs.check_target(graph_folder, "graph")
    target = graph_folder / OFFICIAL_NAMES[split]
    outputs.check_target(target, "split_tables", overwrite)
    return graph_folder, target, exists


def audit_folders(folder: str | Path) -> list[tuple[str, str, audit.Report]]:
    """Audit one split folder, or every split under a graph folder: (its path under the graph
    folder, its split kind, its audit) each. A folder with split.json is read as motive wrote it,
    one with the official tables alone as the official layout defines them."""
    folder = Path(folder).resolve()
    graph_folder = next((p for p in (folder, *folder.parents) if (p / "source.parquet").exists()), None)
    if graph_folder is None:
        raise MotiveError(
            f"{folder}: no graph folder (with source.parquet) here or above; pass a data/{{graph_type}}/{{orf|crispr}} "
            "folder"
        )
    graph = layout.read_graph(graph_folder)
    if folder != graph_folder:
        candidates = [folder]
    else:
        labels = graph_folder.rglob("s_t_labels.parquet")
        candidates = sorted(p.parent for p in labels if p.parent != graph_folder and p.parent.name != "provenance")
    if not candidates:
        raise MotiveError(f"{folder}: no split subfolders found; make one with `motive split`")
    found = []
    for candidate in candidates:
        if (candidate / "split.json").exists():
            split = load_split(candidate, graph)
        else:
            split = split_from_tables(graph, layout.read_split_tables(candidate), candidate.name)
        found.append((str(candidate.relative_to(graph_folder)), split.config.split, audit.audit(graph, split)))
    return found


def official_split_dir(data: str | Path, graph_type: str, gene_type: str, split: str) -> Path:
    """The dataset's official split folder of ``split`` (``data/G/orf/source`` for cold_source),
    refused where it holds no split tables."""
    folder = layout.graph_dir(data, graph_type, gene_type) / OFFICIAL_NAMES[split]
    if not (folder / "s_t_labels.parquet").is_file():
        raise MotiveError(
            f"{folder}: no official {split} split here (s_t_labels.parquet); drop --official to make one, or pass "
            "--split-dir"
        )
    return folder
