"""Named feature views per node type, beside the profile every node carries: ``structure`` for
compounds (a Morgan fingerprint, RDKit, radius 2, 2,048 bits unless the dataset stores its own).
A node without a view gets a mask, not a drop. Models read views from the stage graph
(``StageGraph.views`` / ``StageGraph.masks``); predict computes the same views for new compounds.

Where a view comes from: the dataset's ``views/source_structure.parquet`` (written by ``motive data
synth`` and ``motive data build``: index = compound key, columns = bits), else fingerprints of the
dataset's ``inputs/compound/meta.csv.gz`` (InChI), computed once and cached under
``$MOTIVE_CACHE/views`` by the file's hash. Also: similarity links, the compound-compound edges a
stage gets from features only (``link_view``), the same at every stage and in predict.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from motive.errors import MotiveError
from motive.tables import read_table

# What each node type can carry: genes can carry the profile of the other gene type too (an ORF run's
# genes their CRISPR profile where the dataset has one, and the reverse).
VIEWS = {"source": ("profile", "structure"), "target": ("profile", "orf", "crispr")}
RADIUS, BITS = 2, 2048  # Morgan fingerprints as the graph's compound-compound edges use them (Hetionet's rule)
STRUCTURE_FILE = Path("views") / "source_structure.parquet"


def check_views(value) -> dict[str, list[str]]:
    """``{"source": [...], "target": [...]}``: known views, profile first when present."""
    if not isinstance(value, dict) or set(value) - set(VIEWS):
        raise MotiveError(
            "must map source and/or target to lists of views, e.g. {'source': ['profile', 'structure']}, "
            f"got {value!r}"
        )
    chosen = {}
    for side in ("source", "target"):
        names = list(value.get(side, ["profile"]))
        unknown = [name for name in names if name not in VIEWS[side]]
        if unknown or not names or len(set(names)) != len(names):
            raise MotiveError(f"{side}: views must be distinct names among {', '.join(VIEWS[side])}, got {names!r}")
        chosen[side] = sorted(names, key=VIEWS[side].index)
    return chosen


def fingerprints(structures, radius: int = RADIUS, bits: int = BITS) -> tuple[np.ndarray, np.ndarray]:
    """Morgan bit vectors (uint8, one row per structure: InChI or SMILES) and which parsed."""
    from rdkit import Chem, DataStructs, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=bits)
    matrix = np.zeros((len(structures), bits), np.uint8)
    parsed = np.zeros(len(structures), bool)
    RDLogger.DisableLog("rdApp.*")
    try:
        for row, text in enumerate(structures):
            text = str(text) if isinstance(text, str) else ""
            molecule = Chem.MolFromInchi(text) if text.startswith("InChI=") else Chem.MolFromSmiles(text)
            if molecule is None:
                continue
            DataStructs.ConvertToNumpyArray(generator.GetFingerprint(molecule), matrix[row])
            parsed[row] = True
    finally:
        RDLogger.EnableLog("rdApp.*")
    return matrix, parsed


def structure_table(dataset_dir: str | Path, radius: int = RADIUS, bits: int = BITS) -> pd.DataFrame:
    """The compounds' structure view of a dataset (index: compound key, one column per bit; a
    dataset that stores its own view keeps its own bits)."""
    from motive.data.datasets.registry import default_cache_dir

    stored = Path(dataset_dir) / STRUCTURE_FILE
    if stored.is_file():
        return pd.read_parquet(stored)
    meta = Path(dataset_dir) / "inputs" / "compound" / "meta.csv.gz"
    if not meta.is_file():
        raise MotiveError(
            f"{dataset_dir}: no compound structures ({STRUCTURE_FILE} or inputs/compound/meta.csv.gz); the structure "
            "view needs them"
        )
    digest = hashlib.sha256(meta.read_bytes()).hexdigest()[:16]
    cached = default_cache_dir() / "views" / f"structure-r{radius}-b{bits}-{digest}.parquet"
    if cached.is_file():
        return pd.read_parquet(cached)
    columns = ["Metadata_InChIKey", "Metadata_InChI"]
    table = read_table(meta, columns=columns)[columns].dropna()  # outside data: one line when malformed
    table = table.assign(key=table["Metadata_InChIKey"].str[:14]).drop_duplicates("key")
    matrix, parsed = fingerprints(table["Metadata_InChI"].tolist(), radius, bits)
    frame = structure_frame(table["key"].to_numpy()[parsed], matrix[parsed])
    from motive.outputs import cache_file

    cached.parent.mkdir(parents=True, exist_ok=True)
    with cache_file(cached) as tmp:
        frame.to_parquet(tmp)
    return frame


def structure_frame(keys, bits: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(bits, index=pd.Index(keys, name="key"), columns=[f"bit_{i}" for i in range(bits.shape[1])])


def aligned(table: pd.DataFrame, keys: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """A view table reindexed to ``keys``: the matrix (float32, zeros where absent) and the mask."""
    positions = table.index.get_indexer(keys)
    present = positions >= 0
    matrix = np.zeros((len(keys), table.shape[1]), np.float32)
    matrix[present] = table.to_numpy(np.float32)[positions[present]]
    return matrix, present


def node_views(
    dataset_dir: str | Path,
    graph,
    chosen: dict[str, list[str]],
    *,
    graph_type: str = "st_expanded",
    gene_type: str = "orf",
    radius: int = RADIUS,
    bits: int = BITS,
) -> dict[str, dict[str, tuple]]:
    """The extra views (all but the profile) of a graph's nodes: side -> view -> (matrix, mask)."""
    found: dict[str, dict[str, tuple]] = {"source": {}, "target": {}}
    if "structure" in chosen["source"]:
        found["source"]["structure"] = aligned(structure_table(dataset_dir, radius, bits), graph.sources.keys)
    for name in [n for n in chosen["target"] if n in ("orf", "crispr")]:
        found["target"][name] = gene_profiles(dataset_dir, graph_type, name, graph.targets.keys, gene_type)
    for side, nodes in (("source", graph.sources), ("target", graph.targets)):
        if "profile" not in chosen[side]:  # the profile stays on the stage, masked out for every node
            found[side]["profile"] = (None, np.zeros(len(nodes), bool))
    return found


def view_files(dataset_dir: str | Path, chosen: dict[str, list[str]], graph_type: str = "st_expanded") -> list[Path]:
    """The files ``node_views`` reads for the ``chosen`` views (a missing one included: reading it
    then fails with its own error), so a process can keep what it built from them while their
    bytes stay the same."""
    from motive.data import layout

    files = []
    if "structure" in chosen.get("source", []):
        stored = Path(dataset_dir) / STRUCTURE_FILE
        files.append(stored if stored.is_file() else Path(dataset_dir) / "inputs" / "compound" / "meta.csv.gz")
    for name in [n for n in chosen.get("target", []) if n in ("orf", "crispr")]:
        folder = layout.graph_dir(dataset_dir, graph_type, name)
        files += sorted(path for path in folder.glob("*") if path.is_file()) or [folder / "target.parquet"]
    return files


def gene_profiles(dataset_dir, graph_type: str, name: str, keys: pd.Index, gene_type: str) -> tuple:
    """The ``name`` (orf or crispr) profiles of the run's genes, where the dataset has them."""
    from motive.data import layout

    if name == gene_type:
        raise MotiveError(f"views: {name} is the run's own gene profile; name it profile")
    folder = layout.graph_dir(dataset_dir, graph_type, name)
    if not (folder / "target.parquet").is_file():
        raise MotiveError(f"{folder}: no {name} gene profiles in this dataset; drop the {name} view")
    table = layout.read_graph(folder).targets
    return aligned(pd.DataFrame(table.x, index=table.keys), keys)


def similarity(view: str, matrix: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Pairwise similarity of two row sets of a view: Tanimoto for structure bits, cosine else."""
    a, b = matrix[rows].astype(np.float64), matrix[columns].astype(np.float64)
    if view == "structure":
        shared = a @ b.T
        return shared / np.maximum(a.sum(1)[:, None] + b.sum(1)[None, :] - shared, 1e-12)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def similarity_links(
    view: str, matrix: np.ndarray, mask: np.ndarray, visible: np.ndarray, k: int, block: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Compound-compound edges from features only: every visible node with the view is joined to
    its ``k`` most similar other visible nodes with the view (ties by id), both directions, each
    pair once. Nothing here reads an edge or a label, so the links are the same whatever the
    compound-gene annotations say; a node is linked only at a stage that may see it."""
    nodes = np.flatnonzero(visible & mask)
    if len(nodes) < 2 or k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    take = min(k, len(nodes) - 1)
    heads, tails = [], []
    for start in range(0, len(nodes), block):
        rows = nodes[start : start + block]
        scores = similarity(view, matrix, rows, nodes)
        scores[np.arange(len(rows)), np.searchsorted(nodes, rows)] = -np.inf  # never itself
        best = np.argsort(-scores, axis=1, kind="stable")[:, :take]
        heads.append(np.repeat(rows, take))
        tails.append(nodes[best.ravel()])
    a, b = np.concatenate(heads), np.concatenate(tails)
    keys = np.unique(np.minimum(a, b) * len(mask) + np.maximum(a, b))
    low, high = keys // len(mask), keys % len(mask)
    return np.r_[low, high], np.r_[high, low]
