"""New Cell Painting plates in, one profile per compound out, processed like the training data:

    motive profiles PLATE.csv.gz [PLATE2 ...] --reference RUN_OR_DATASET --out FEATURES.parquet
    motive predict --run RUN --compounds FEATURES.parquet --report page/ --out ranked.parquet

With pycytominer (Way et al.; the JUMP profiling recipe): each plate is normalised to its own
negative controls (``normalize``, robust MAD: (x - median) / (1.4826 MAD) of the control wells),
reduced to the reference's feature list, and the replicate wells of a compound are aggregated by
their median (``aggregate``), per compound key (InChIKey14 where the wells have one, else the
sample id) or per compound and dose. With copairs (the same lab's replicate mAP): whether a
compound's replicates are distinguishable from the controls (``Metadata_activity_map``, its
corrected permutation p-value ``Metadata_activity_p`` and ``Metadata_active``): a compound that
changes nothing gives an uninformative profile, and ``predict`` says so. Controls are never queries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from motive.errors import MotiveError, require
from motive.tables import read_table

NEGCON = ("Metadata_pert_type == 'negcon'", "Metadata_broad_sample == 'DMSO'")  # JUMP's, then this plate's
KEY = "Metadata_InChIKey"


def reference_features(reference: str | Path) -> list[str]:
    """The feature columns of a run (its dataset's compound profiles) or of a dataset folder."""
    import pyarrow.parquet as pq

    from motive.data import layout

    reference = Path(reference)
    if (reference / "config.json").is_file():
        from motive.training.runs import read_run

        config, _ = read_run(reference, "cpu")
        folder = layout.graph_dir(config.data, config.graph, config.gene_type)
    else:
        folder = next((p.parent for p in sorted(reference.glob("data/*/*/source.parquet"))), None)
        if folder is None:
            raise MotiveError(f"{reference}: neither a run folder nor a dataset folder (data/*/*/source.parquet)")
    names = pq.read_schema(folder / "source.parquet").names
    return [n for n in names if not n.startswith("Metadata_") and not n.startswith("__index")]


def _negcon_query(wells: pd.DataFrame, negcon: str | None, where: str) -> str:
    for query in [negcon] if negcon else NEGCON:
        try:
            if wells.eval(query).any():
                return query
        except Exception:  # a column the query names is absent
            continue
    raise MotiveError(
        f"{where}: no negative-control wells for {negcon or ' or '.join(NEGCON)}; pass the plate's control query "
        "as negcon, e.g. Metadata_pert_type == 'control'"
    )


def normalized_plate(path: str | Path, negcon: str | None, features: list[str] | None) -> pd.DataFrame:
    """One plate's wells normalised to its negative controls (``Metadata_negcon`` marks them)."""
    pycytominer = require("pycytominer", "profiles", "plate normalisation")

    wells = read_table(path)
    meta = [c for c in wells.columns if str(c).startswith("Metadata_")]
    present = [c for c in wells.columns if c not in meta]
    if features is not None:
        missing = [f for f in features if f not in present]
        if missing:
            raise MotiveError(
                f"{path}: {len(missing)} of the reference's features are not in the plate: "
                f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; profile it with the same feature set"
            )
        present = list(features)
    _check_features(wells, present, path)
    query = _negcon_query(wells, negcon, str(path))
    controls = wells.eval(query).to_numpy()
    if controls.all():
        raise MotiveError(f"{path}: every well is a control ({query}); a plate needs treated wells to profile")
    normalized = pycytominer.normalize(
        wells[meta + present], features=present, meta_features=meta, samples=query, method="mad_robustize"
    )
    return normalized.assign(Metadata_negcon=controls)


def _check_features(wells: pd.DataFrame, features: list[str], path: str | Path) -> None:
    """Numbers only, every well measured: one line naming the first column that is not."""
    if not features:
        raise MotiveError(f"{path}: no feature columns (every column starts with Metadata_)")
    for name in features:
        if not pd.api.types.is_numeric_dtype(wells[name]) or pd.api.types.is_bool_dtype(wells[name]):
            value = wells[name].dropna().iloc[0] if wells[name].notna().any() else None
            raise MotiveError(
                f"{path}: feature column {name!r} is not numeric (e.g. {value!r}); name metadata columns Metadata_*"
            )
    missing = wells[features].isna().sum()
    if missing.any():
        name = missing.index[missing.to_numpy() > 0][0]
        raise MotiveError(
            f"{path}: feature column {name!r} has {missing[name]} missing values (of {missing.astype(bool).sum()} "
            "columns with any); drop or impute them first (e.g. pycytominer.feature_select with 'drop_na_columns')"
        )
    if not np.isfinite(wells[features].to_numpy(np.float64)).all():
        raise MotiveError(f"{path}: a feature value is infinite; drop or impute it first")


def compound_keys(wells: pd.DataFrame) -> pd.Series:
    """InChIKey14 where a well has one, else its sample id (Metadata_broad_sample, JCP2022 or pert id)."""
    for column in ("Metadata_InChIKey14", "Metadata_InChIKey"):
        if column in wells:
            key = wells[column].astype("string").str[:14]
            break
    else:
        key = pd.Series(pd.NA, index=wells.index, dtype="string")
    fallback = next((c for c in ("Metadata_broad_sample", "Metadata_JCP2022", "Metadata_pert_id") if c in wells), None)
    if fallback is not None:
        key = key.fillna(wells[fallback].astype("string"))
    if key.isna().any():
        raise MotiveError("a treated well has no compound key (Metadata_InChIKey14, Metadata_broad_sample, ...)")
    return key


def activity(wells: pd.DataFrame, features: list[str], key: str, null_size: int = 10000) -> pd.DataFrame:
    """copairs phenotypic activity per compound: replicate wells against control wells."""
    copairs_map = require("copairs.map", "profiles", "phenotypic activity")
    meta = wells[[key, "Metadata_negcon"]].reset_index(drop=True)
    ap = copairs_map.average_precision(
        meta, wells[features].to_numpy(np.float64), [key], [], [], ["Metadata_negcon"], progress_bar=False
    )
    ap = ap[~ap["Metadata_negcon"]]
    found = copairs_map.mean_average_precision(ap, [key], null_size, 0.05, seed=0, progress_bar=False)
    return pd.DataFrame(
        {
            "Metadata_activity_map": found["mean_average_precision"].to_numpy(),
            "Metadata_activity_p": found["corrected_p_value"].to_numpy(),
            "Metadata_active": found["below_corrected_p"].to_numpy(bool),
        },
        index=pd.Index(found[key].to_numpy(), name=key),
    )


def profiles(
    plates: list[str | Path], *, reference: str | Path | None = None, negcon: str | None = None, per_dose: bool = False
) -> pd.DataFrame:
    """One row per compound (or compound and dose) of the plates, in the reference's feature space,
    with its activity (see the module docstring). Index: ``Metadata_InChIKey``."""
    pycytominer = require("pycytominer", "profiles", "motive profiles")
    require("copairs.map", "profiles", "motive profiles")

    if not plates:
        raise MotiveError("no plates given")
    features = reference_features(reference) if reference is not None else None
    frames = [normalized_plate(path, negcon, features) for path in plates]
    wells = pd.concat(frames, ignore_index=True)
    if features is None:
        features = [c for c in frames[0].columns if not str(c).startswith("Metadata_")]
        features = [f for f in features if all(f in frame for frame in frames)]
    treated = ~wells["Metadata_negcon"]
    keys = compound_keys(wells[treated])  # before KEY is written: a plate's own Metadata_InChIKey is read
    wells[KEY] = "negcon"  # controls are never queries; they only anchor normalisation and activity
    wells.loc[treated, KEY] = keys
    strata = [KEY, "Metadata_mmoles_per_liter"] if per_dose else [KEY]
    if per_dose and "Metadata_mmoles_per_liter" not in wells:
        raise MotiveError("per dose: the wells have no Metadata_mmoles_per_liter column")
    medians = pycytominer.aggregate(
        wells.loc[treated, strata + features], strata=strata, features=features, operation="median"
    )
    active = activity(wells, features, KEY)
    table = medians.merge(active, left_on=KEY, right_index=True, how="left")
    if per_dose:
        table[KEY] = table[KEY] + "@" + table["Metadata_mmoles_per_liter"].astype(str)
    return table.set_index(KEY)[features + list(active.columns) + (["Metadata_mmoles_per_liter"] if per_dose else [])]
