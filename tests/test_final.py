"""A final model (``--final``): no test stage, the held-out side split 90/10 into train and valid,
valid picks the epoch and fits the calibration, and prediction sees every known link."""

import importlib
import json

import numpy as np
import pandas as pd
import pytest

from motive.cli import main
from motive.data import layout, synth
from motive.errors import MotiveError
from motive.splits import SplitConfig, make_split
from motive.splits.audit import audit
from motive.training.config import TrainConfig

predict = importlib.import_module("motive.predict")  # the package; motive.predict is the API function


@pytest.fixture(scope="module")
def graph():
    return synth.generate(synth.SynthConfig(scale=0.05, seed=1, signal=1.0))["st_expanded"]


@pytest.mark.parametrize("kind", ["random", "cold_source", "cold_target", "cold_both"])
def test_a_final_split_holds_out_a_tenth_for_valid_and_nothing_for_test(graph, kind):
    split = make_split(graph, SplitConfig(kind, 0, final=True))
    labels = split.subsets["st"]
    assert "test" not in set(labels) and len(split.negatives["test"]) == 0
    assert all((stages < 2).all() for stages in split.node_stage.values())
    if kind == "random":
        assert (labels == "valid").sum() == int(0.1 * len(labels))
    for side in {"cold_source": ["source"], "cold_target": ["target"], "cold_both": ["source", "target"]}.get(kind, []):
        held = split.node_stage[side] == 1
        expected = np.sqrt(0.1) / (np.sqrt(0.9) + np.sqrt(0.1)) if kind == "cold_both" else 0.1
        assert abs(held.mean() - expected) < 0.02
    for kind_ in split.subsets:  # the test stage, which prediction reads, sees every known link
        assert split.message_mask(kind_, "test").all()
    assert not split.message_mask("st", "valid").all()  # valid still hides its own links
    assert audit(graph, split).passed


def test_final_ratios_are_checked():
    with pytest.raises(MotiveError, match="a final split's test share is 0"):
        SplitConfig("random", final=True, ratios=(0.8, 0.1, 0.1))
    with pytest.raises(MotiveError, match="drop `split_dir`"):
        TrainConfig(data="/tmp", final=True, split_dir="/tmp")


def test_a_final_run_has_valid_metrics_a_calibration_and_predicts_with_every_link(tmp_path, capsys):
    graphs = synth.generate(synth.SynthConfig(scale=0.05, seed=2, signal=1.0))
    layout.write_dataset(graphs, tmp_path / "data")
    argv = ["-q", "train", "--data", str(tmp_path / "data"), "--split", "cold_source", "--model", "mlp"]
    assert main([*argv, "--epochs", "4", "--final", "--hits-k", "10", "--out", str(tmp_path / "run")]) == 0
    assert "a final model: no test stage" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["final"] is True and "test" not in metrics and metrics["valid"]["auroc"] > 0
    assert metrics["config"]["final"] is True
    assert json.loads((tmp_path / "run" / "calibration.json").read_text())["fitted_on"].startswith("valid")
    assert main(["-q", "evaluate", str(tmp_path / "run")]) == 2
    assert "has no test stage to evaluate" in capsys.readouterr().err

    loaded = predict.load_predictor(tmp_path / "run", "cpu")
    sources, _ = loaded.stage.edges[("source", "binds", "target")]
    assert len(sources) == len(loaded.graph.edges["st"])  # every known compound-gene link is evidence
    held_out = np.flatnonzero(loaded.split.node_stage["source"] == 1)[0]
    key = loaded.graph.sources.keys[held_out]
    profile = pd.DataFrame(
        loaded.graph.sources.x[[held_out]],
        columns=loaded.feature_names["source"],
        index=pd.Index([key], name="Metadata_InChIKey"),
    )
    ranked = predict.rank(loaded, compounds=profile, allow_existing=True)
    st = loaded.graph.edges["st"]
    known = set(loaded.graph.targets.keys[st.loc[st["source"] == held_out, "target"]])
    assert set(ranked.loc[ranked["known"] != "none", "candidate"]) == known  # a valid compound's links flagged
