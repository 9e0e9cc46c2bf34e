"""The official MOTIVE file layout: read and write built graph folders and split subfolders.

A dataset directory holds ``data/{graph_type}/{gene_type}/`` with ``source.parquet``,
``target.parquet``, ``source_map.parquet``, ``target_map.parquet``, ``s_t_labels.parquet``,
``s_s_labels.parquet``, ``t_t_labels.parquet`` (official names and columns, nothing added),
and split subfolders holding the same edge tables plus a ``subset`` column. Edge provenance
(database, rel_type), which the official files do not carry, goes to ``provenance/`` beside them.
This module only moves tables between disk and the data model; it decides nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from motive.data.graph import EDGE_COLUMNS, PROVENANCE_COLUMNS, SOURCE_INDEX, TARGET_INDEX, Graph, NodeTable
from motive.errors import MotiveError
from motive.names import GENE_TYPES, GRAPH_TYPES
from motive.outputs import output_dir
from motive.tables import as_float32_matrix, read_table, require_nonempty

EDGE_FILES = {"st": "s_t_labels.parquet", "ss": "s_s_labels.parquet", "tt": "t_t_labels.parquet"}

SPLIT_SUBSETS = {
    "st": ("train", "message", "valid", "test", "unused"),
    "ss": ("train", "valid", "test"),
    "tt": ("train", "valid", "test"),
}


def graph_dir(dataset_dir: str | Path, graph_type: str, gene_type: str = "orf") -> Path:
    if graph_type not in GRAPH_TYPES:
        raise MotiveError(f"unknown graph type {graph_type!r}; expected one of {', '.join(GRAPH_TYPES)}")
    if gene_type not in GENE_TYPES:
        raise MotiveError(f"unknown gene type {gene_type!r}; expected one of {', '.join(GENE_TYPES)}")
    return Path(dataset_dir) / "data" / graph_type / gene_type


def _features_frame(nodes: NodeTable, index_name: str) -> pd.DataFrame:
    columns = [f"X_{i + 1}" for i in range(nodes.x.shape[1])]
    return pd.DataFrame(nodes.x, index=pd.Index(nodes.keys, name=index_name), columns=columns)


def _map_frame(nodes: NodeTable, index_name: str) -> pd.DataFrame:
    return pd.DataFrame({"0": np.arange(len(nodes), dtype=np.int64)}, index=pd.Index(nodes.keys, name=index_name))


def write_graph(graph: Graph, folder: str | Path, overwrite: bool = False) -> Path:
    """Write one graph folder atomically (all files appear together or not at all)."""
    graph.validate()
    folder = Path(folder)
    with output_dir(folder, "graph", overwrite) as tmp:
        _features_frame(graph.sources, SOURCE_INDEX).to_parquet(tmp / "source.parquet")
        _features_frame(graph.targets, TARGET_INDEX).to_parquet(tmp / "target.parquet")
        _map_frame(graph.sources, SOURCE_INDEX).to_parquet(tmp / "source_map.parquet")
        _map_frame(graph.targets, TARGET_INDEX).to_parquet(tmp / "target_map.parquet")
        for kind, table in graph.edges.items():
            table[list(EDGE_COLUMNS[kind])].astype(np.int64).to_parquet(tmp / EDGE_FILES[kind], index=False)
            provenance = [column for column in PROVENANCE_COLUMNS if column in table.columns]
            if provenance:
                (tmp / "provenance").mkdir(exist_ok=True)
                table[provenance].to_parquet(tmp / "provenance" / EDGE_FILES[kind], index=False)
    return folder


def _read_nodes(folder: Path, name: str, index_name: str) -> NodeTable:
    path = folder / f"{name}.parquet"
    frame = read_table(path)
    if frame.index.name != index_name and index_name in frame.columns:
        frame = frame.set_index(index_name)
    require_nonempty(frame, path)
    frame = frame[[column for column in frame.columns if not str(column).startswith("Metadata_")]]
    nodes = NodeTable(frame.index, as_float32_matrix(frame, path))
    nodes.validate(str(path))
    map_path = folder / f"{name}_map.parquet"
    if map_path.exists():
        id_map = read_table(map_path)
        column = id_map.columns[0]
        expected = pd.Series(np.arange(len(nodes)), index=nodes.keys)
        if not (id_map.index.equals(nodes.keys) and np.array_equal(id_map[column].to_numpy(), expected.to_numpy())):
            raise MotiveError(f"{map_path}: ids are not 0..n-1 in the order of {path.name}; rebuild the graph folder")
    return nodes


def graph_files(folder: str | Path) -> list[Path]:
    """The files ``read_graph`` reads from a graph folder, those present."""
    names = ["source.parquet", "target.parquet", "source_map.parquet", "target_map.parquet", *EDGE_FILES.values()]
    names += [f"provenance/{name}" for name in EDGE_FILES.values()]
    return [Path(folder) / name for name in names if (Path(folder) / name).is_file()]


def read_graph(folder: str | Path) -> Graph:
    """Read one graph folder (official files; provenance if present) and validate it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MotiveError(f"{folder}: graph folder not found; expected data/{{graph_type}}/{{orf|crispr}}/")
    sources = _read_nodes(folder, "source", SOURCE_INDEX)
    targets = _read_nodes(folder, "target", TARGET_INDEX)
    edges = {}
    for kind, file_name in EDGE_FILES.items():
        path = folder / file_name
        if not path.exists():
            continue
        table = read_table(path, columns=EDGE_COLUMNS[kind])[list(EDGE_COLUMNS[kind])]
        if kind == "st":
            require_nonempty(table, path)
        provenance_path = folder / "provenance" / file_name
        if provenance_path.exists():
            provenance = read_table(provenance_path)
            if len(provenance) != len(table):
                raise MotiveError(f"{provenance_path}: {len(provenance)} rows but {path.name} has {len(table)}")
            table = pd.concat([table, provenance], axis=1)
        edges[kind] = table
    if "st" not in edges:
        raise MotiveError(f"{folder / EDGE_FILES['st']}: file not found; every graph needs source-target edges")
    try:
        return Graph(sources, targets, edges).validate()
    except MotiveError as error:
        raise MotiveError(f"{folder}: {error}") from None


def write_dataset(graphs: dict[str, Graph], dataset_dir: str | Path, gene_type: str = "orf") -> None:
    for graph_type, graph in graphs.items():
        write_graph(graph, graph_dir(dataset_dir, graph_type, gene_type))


def read_dataset(dataset_dir: str | Path, gene_type: str = "orf") -> dict[str, Graph]:
    """Every graph type present under ``dataset_dir/data/*/gene_type``."""
    found = {gt: graph_dir(dataset_dir, gt, gene_type) for gt in GRAPH_TYPES}
    found = {gt: folder for gt, folder in found.items() if folder.is_dir()}
    if not found:
        raise MotiveError(f"{dataset_dir}: no data/{{graph_type}}/{gene_type}/ folders; build or fetch a dataset first")
    return {gt: read_graph(folder) for gt, folder in found.items()}


def write_split_tables(tables: dict[str, pd.DataFrame], folder: str | Path, overwrite: bool = False) -> Path:
    """Write a split subfolder: each edge table with its official columns plus ``subset``."""
    folder = Path(folder)
    with output_dir(folder, "split_tables", overwrite) as tmp:
        for kind, table in tables.items():
            _check_subsets(kind, table, folder / EDGE_FILES[kind])
            columns = list(EDGE_COLUMNS[kind]) + ["subset"]
            table[columns].to_parquet(tmp / EDGE_FILES[kind], index=False)
    return folder


def read_split_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    folder = Path(folder)
    tables = {}
    for kind, file_name in EDGE_FILES.items():
        path = folder / file_name
        if path.exists():
            table = read_table(path, columns=EDGE_COLUMNS[kind] + ("subset",))
            _check_subsets(kind, table, path)
            tables[kind] = table
    if "st" not in tables:
        raise MotiveError(f"{folder / EDGE_FILES['st']}: file not found; not a split folder")
    return tables


def _check_subsets(kind: str, table: pd.DataFrame, where: Path) -> None:
    unknown = set(table["subset"].unique()) - set(SPLIT_SUBSETS[kind])
    if unknown:
        raise MotiveError(
            f"{where}: column 'subset' has unknown value {sorted(map(str, unknown))[0]!r}; expected one of "
            f"{', '.join(SPLIT_SUBSETS[kind])}"
        )
