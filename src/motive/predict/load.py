"""A run made ready to predict, and the tables a user gives it (profiles, edges)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from motive.data.graph import SOURCE_INDEX, TARGET_INDEX, Graph
from motive.errors import MotiveError
from motive.evaluation import calibration
from motive.tables import read_table

SIDES = {"compounds": "source", "genes": "target"}


KEY_COLUMNS = {"source": SOURCE_INDEX, "target": TARGET_INDEX}


@dataclass
class Predictor:
    """A run made ready to predict (``load_predictor``): its model and the test-stage graph whose
    links are its evidence, with the config, graph, split, feature names and calibration."""

    config: object  # config.TrainConfig
    graph: Graph
    split: object  # splits.Split
    stage: object  # models.StageGraph of the test stage
    model: object
    feature_names: dict[str, list[str]]
    calibration: pd.DataFrame | None = None  # expected precision per place bin (calibration.json)
    run_dir: str = ""  # the run folder it was loaded from


def load_predictor(
    run_dir: str | Path, device: str = "auto", data: str | Path | None = None, plugins: list | tuple = ()
) -> Predictor:
    """The run's model and test-stage graph (``data``: a moved copy of its dataset); refuses a
    missing or incomplete run, a changed dataset, and models that cannot score nodes they never
    saw. Sets torch's thread count to the run's, on which its numbers depend."""
    import pyarrow.parquet as pq
    import torch

    from motive.data import layout
    from motive.training import runs

    run_dir = Path(run_dir)
    for name in ("checkpoint.pt", "config.json", "metrics.json"):
        if not (run_dir / name).is_file():
            raise MotiveError(f"{run_dir}: not a complete run folder ({name} missing); train one with `motive train`")
    loaded = runs.load_run(run_dir, device=device, data=data, plugins=plugins)
    config, prepared, model = loaded.config, loaded.prepared, loaded.model
    if model.transductive:
        raise MotiveError(
            f"model {config.model!r} cannot score new nodes: it has no representation for a node it never saw; use a "
            "*_cp, mlp, bilinear, cosine or knn run"
        )
    torch.set_num_threads(config.threads)  # the run's numbers depend on it (TrainConfig.threads)
    folder = layout.graph_dir(config.data, config.graph, config.gene_type)
    feature_names = {}
    for side, file in (("source", "source.parquet"), ("target", "target.parquet")):
        names = pq.read_schema(folder / file).names
        feature_names[side] = [n for n in names if not n.startswith("Metadata_") and not n.startswith("__index")]
    fitted = calibration.read(run_dir / "calibration.json") if (run_dir / "calibration.json").is_file() else None
    stage = prepared.stages["test"]
    return Predictor(config, prepared.graph, prepared.split, stage, model, feature_names, fitted, str(run_dir))


def read_profiles(
    profiles: str | Path | pd.DataFrame,
    side: str,
    feature_names: list[str],
    structure_only: bool = False,
    where: str | None = None,
) -> tuple[pd.Index, np.ndarray, pd.Series | None]:
    """Keys, float32 features in the run's column order, and the ``smiles`` column if any. With
    ``structure_only`` (a run that reads compound structures) a table of keys and ``smiles``
    without any feature column is accepted: its features are then None (no profile). ``where``
    names the table in errors (default: its path, or "source profiles")."""
    where = where or (profiles if not isinstance(profiles, pd.DataFrame) else f"{side} profiles")
    frame = profiles if isinstance(profiles, pd.DataFrame) else read_table(profiles)
    key = KEY_COLUMNS[side]
    if frame.index.name != key:
        if key not in frame.columns:
            raise MotiveError(
                f"{where}: no key column {key!r} (as index or column); name the "
                f"{'compound InChIKey' if side == 'source' else 'gene symbol'} column {key}"
            )
        frame = frame.set_index(key)
    if len(frame) == 0:
        raise MotiveError(f"{where}: table is empty; expected at least one profile")
    blank = frame.index.isna() | (frame.index.astype(str).str.strip() == "")
    if blank.any():
        raise MotiveError(
            f"{where}: {blank.sum()} row(s) with an empty {key} (first: row {int(np.flatnonzero(blank)[0]) + 1}); "
            "every query needs an identifier"
        )
    duplicated = frame.index[frame.index.duplicated()]
    if len(duplicated):
        raise MotiveError(
            f"{where}: duplicate key {duplicated[0]!r} ({len(duplicated)} duplicates); keep one profile per key"
        )
    smiles = None
    if "smiles" in frame.columns:  # a missing or empty SMILES: no structure for that query
        text = frame["smiles"].astype("string").str.strip()
        smiles = pd.Series(text.where(text.notna() & (text != ""), None).astype(object), index=frame.index)
    columns = [c for c in frame.columns if not str(c).startswith("Metadata_") and c != "smiles"]
    if structure_only and not columns and smiles is not None:  # structures only: no profile
        absent = smiles.isna().to_numpy()
        if absent.any():
            raise MotiveError(
                f"{where}: {absent.sum()} query(s) with no smiles and no profile columns: "
                f"{', '.join(map(repr, frame.index[absent][:3]))}; give a SMILES (or profiles) for every query"
            )
        return frame.index, None, smiles
    missing = [n for n in feature_names if n not in columns]
    extra = [c for c in columns if c not in set(feature_names)]
    if missing or extra:
        raise MotiveError(
            f"{where}: feature columns differ from the run's {len(feature_names)} training features "
            f"(missing: {', '.join(map(str, missing[:5])) or 'none'}{' ...' if len(missing) > 5 else ''}; extra: "
            f"{', '.join(map(str, extra[:5])) or 'none'}{' ...' if len(extra) > 5 else ''})"
        )
    values = frame[feature_names]
    text = [
        c
        for c in feature_names
        if not (pd.api.types.is_numeric_dtype(values[c]) and not pd.api.types.is_bool_dtype(values[c]))
    ]
    if text:
        raise MotiveError(f"{where}: feature column {text[0]!r} has dtype {values[text[0]].dtype}, expected numbers")
    matrix = values.to_numpy(np.float32)
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        keys = frame.index[bad]
        raise MotiveError(
            f"{where}: {bad.sum()} profile(s) with NaN or inf: "
            f"{', '.join(map(repr, keys[:3]))}{' ...' if len(keys) > 3 else ''}; impute or drop them"
        )
    return frame.index, matrix, smiles


def read_edges(path: str | Path | pd.DataFrame) -> pd.DataFrame:
    """User-given edges of new nodes: columns ``query`` (a new key) and ``node`` (an existing key),
    optional ``node_side`` (source/target; default: the other side)."""
    frame = path if isinstance(path, pd.DataFrame) else read_table(path, columns=["query", "node"])
    if "node_side" in frame and not frame["node_side"].isin(["source", "target"]).all():
        raise MotiveError(f"{path}: column 'node_side' must be 'source' or 'target'")
    columns = [c for c in ("query", "node", "node_side") if c in frame]
    return frame.drop_duplicates(columns, ignore_index=True)  # an edge given twice is one edge, as in the build
