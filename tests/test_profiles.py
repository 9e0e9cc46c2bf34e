"""Plates to compound profiles (``motive/data/profiles.py``): the real Cell Painting plate, one compound
recomputed from its wells by hand, and a synthetic round trip plate -> profiles -> predict."""

import importlib

import numpy as np
import pandas as pd
import pytest
from scipy.stats import median_abs_deviation

from motive.cli import main
from motive.data import layout, synth
from motive.data.profiles import profiles
from motive.errors import MotiveError
from motive.training.config import TrainConfig
from motive.training.loop import run

predict = importlib.import_module("motive.predict")  # the module; motive.predict is the API function
PLATE = "cellpainting/SQ00015054_normalized_feature_select.csv.gz"


def by_hand(wells: pd.DataFrame, features: list[str], controls: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Robust MAD normalisation to the control wells, then the median of the chosen wells."""
    x = wells[features].to_numpy(np.float64)
    median = np.median(x[controls], axis=0)
    mad = median_abs_deviation(x[controls], axis=0) * 1.4826
    return np.median((x[chosen] - median) / (mad + 1e-18), axis=0)


def test_the_real_plate_gives_one_row_per_compound_with_its_activity(raw_dir, tmp_path):
    path = raw_dir / PLATE
    table = profiles([path])  # the plate's controls are DMSO (pert_type 'control'), found without being told
    wells = pd.read_csv(path)
    treated = wells[wells["Metadata_pert_type"] != "control"]
    assert len(table) == treated["Metadata_broad_sample"].nunique() == 58 and "DMSO" not in table.index
    assert table[["Metadata_activity_map", "Metadata_activity_p"]].notna().all().all()
    assert table["Metadata_active"].dtype == bool and 0 < table["Metadata_active"].sum() < 58
    features = [c for c in wells.columns if not c.startswith("Metadata_")]
    key = "AHYMHWXQRWRBKT"
    expected = by_hand(
        wells,
        features,
        (wells["Metadata_broad_sample"] == "DMSO").to_numpy(),
        (wells["Metadata_InChIKey14"] == key).to_numpy(),
    )
    np.testing.assert_allclose(table.loc[key, features].to_numpy(np.float64), expected, rtol=1e-5, atol=1e-6)
    assert main(["-q", "profiles", str(path), "--out", str(tmp_path / "features.parquet")]) == 0
    assert pd.read_parquet(tmp_path / "features.parquet").shape[0] == 58


def test_a_plate_through_profiles_predicts_as_the_medians_computed_by_hand(tmp_path, capsys):
    graphs = synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0))
    layout.write_dataset(graphs, tmp_path / "data")
    run(TrainConfig(data=str(tmp_path / "data"), split="cold_source", model="knn", hits_k=5), tmp_path / "run")
    loaded = predict.load_predictor(tmp_path / "run", "cpu")
    features = loaded.feature_names["source"]
    rng = np.random.default_rng(0)
    base = loaded.graph.sources.x[:4].astype(np.float64)
    rows, keys = [], []
    for i, profile in enumerate(base):  # 3 replicate wells per compound, then 10 control wells
        for _ in range(3):
            rows.append(2 * profile + 5 + 0.1 * rng.normal(size=len(profile)))
            keys.append(f"NEWPLATECPD{i:03d}")
    rows += [5 + 2 * rng.normal(size=base.shape[1]) for _ in range(10)]
    keys += [None] * 10
    wells = pd.DataFrame(np.array(rows), columns=features)
    wells.insert(0, "Metadata_InChIKey14", keys)
    wells.insert(0, "Metadata_pert_type", ["trt"] * 12 + ["negcon"] * 10)
    wells.insert(0, "Metadata_Well", [f"W{i:02d}" for i in range(22)])
    wells.to_csv(tmp_path / "plate.csv", index=False)
    argv = ["-q", "profiles", str(tmp_path / "plate.csv"), "--reference", str(tmp_path / "run")]
    assert main([*argv, "--out", str(tmp_path / "features.parquet")]) == 0
    controls = (wells["Metadata_pert_type"] == "negcon").to_numpy()
    medians = [
        by_hand(wells, features, controls, (wells["Metadata_InChIKey14"] == k).to_numpy())
        for k in sorted(set(keys) - {None})
    ]
    index = pd.Index(sorted(set(keys) - {None}), name="Metadata_InChIKey")
    direct = predict.rank(loaded, compounds=pd.DataFrame(np.array(medians), columns=features, index=index))
    through = predict.rank(loaded, compounds=tmp_path / "features.parquet")
    assert "active" in through and (through["query"] == direct["query"]).all()
    assert (through["candidate"] == direct["candidate"]).all()
    np.testing.assert_allclose(through["score"], direct["score"], rtol=1e-5, atol=1e-6)
    wells.drop(columns=features[:2]).to_csv(tmp_path / "short.csv", index=False)  # two reference features missing
    short = ["-q", "profiles", str(tmp_path / "short.csv"), "--reference", str(tmp_path / "run"), "--out"]
    assert main([*short, str(tmp_path / "bad.parquet")]) == 2 and not (tmp_path / "bad.parquet").exists()
    assert "2 of the reference's features are not in the plate: X_1, X_2" in capsys.readouterr().err
    with pytest.raises(MotiveError, match="no negative-control wells"):
        profiles([tmp_path / "plate.csv"], negcon="Metadata_pert_type == 'control'")


def small_plate(rng: np.random.Generator) -> pd.DataFrame:
    """Two compounds in three wells each, six control wells, five features."""
    x = np.r_[rng.normal(2, 1, (3, 5)), rng.normal(-2, 1, (3, 5)), rng.normal(0, 1, (6, 5))]
    wells = pd.DataFrame(x, columns=[f"F_{i}" for i in range(5)])
    wells.insert(0, "Metadata_JCP2022", ["JCP2022_000001"] * 3 + ["JCP2022_000002"] * 3 + ["JCP2022_033924"] * 6)
    wells.insert(0, "Metadata_pert_type", ["trt"] * 6 + ["negcon"] * 6)
    return wells


def test_a_jump_plate_keyed_by_jcp2022_gives_one_row_per_compound(tmp_path):
    small_plate(np.random.default_rng(0)).to_csv(tmp_path / "plate.csv", index=False)
    table = profiles([tmp_path / "plate.csv"])
    assert sorted(table.index) == ["JCP2022_000001", "JCP2022_000002"]  # not one compound called negcon


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda w: w.assign(F_1=w["F_1"].where(w.index != 2)), "feature column 'F_1' has 1 missing values"),
        (lambda w: w.assign(F_3=["x"] + w["F_3"].astype(str).tolist()[1:]), "feature column 'F_3' is not numeric"),
        (lambda w: w[w["Metadata_pert_type"] == "negcon"], "every well is a control"),
        (lambda w: w.assign(F_0=np.inf), "infinite"),
    ],
)
def test_a_plate_that_cannot_be_profiled_is_one_line(tmp_path, capsys, edit, expected):
    edit(small_plate(np.random.default_rng(0))).to_csv(tmp_path / "plate.csv", index=False)
    assert main(["-q", "profiles", str(tmp_path / "plate.csv"), "--out", str(tmp_path / "out.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("motive: error: ") and "\n" not in err and expected in err, err
    assert not (tmp_path / "out.parquet").exists()
