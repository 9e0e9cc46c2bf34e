"""The notebook API returns objects: a TrainResult that saves and loads, Predictions with the query
side and the domain threshold as attributes and its page, the evaluator's pairs in OGB's shape,
and the exported functions, reached without importing torch until they are used."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import motive
from motive.data import layout, synth
from motive.errors import MotiveError
from motive.models import REGISTRY, LinkModel


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    layout.write_dataset(synth.generate(synth.SynthConfig(scale=0.05, seed=6, signal=1.0)), root / "data")
    return root / "data"


def test_train_returns_the_run_as_an_object_that_saves_and_loads(dataset, tmp_path):
    result = motive.train(data=dataset, split="cold_source", model="mlp", epochs=3, hits_k=5, out=tmp_path / "run")
    assert isinstance(result, motive.TrainResult) and result.path == tmp_path / "run"
    assert result.config.model == "mlp" and result.config.views == {"source": ["profile"], "target": ["profile"]}
    assert len(result.history) == 3 and {"epoch", "train_loss"} <= set(result.history.columns)
    assert result.metrics["test"]["auroc"] > 0 and "seconds" not in result.metrics  # timings live in timing.json
    copy = result.save(tmp_path / "copy")
    with pytest.raises(MotiveError, match="overwrite"):
        result.save(tmp_path / "copy")
    loaded = motive.TrainResult.load(copy, device="cpu")
    assert loaded.metrics == result.metrics and loaded.history.equals(result.history)
    for mine, theirs in zip(loaded.model.state_dict().values(), result.model.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs)


class TinyTowers(LinkModel):
    """A model handed to motive.train as a class, never registered by name."""

    def __init__(self, stage, hidden: int = 8):
        super().__init__()
        self.towers = torch.nn.ModuleDict({t: torch.nn.Linear(x.shape[1], hidden) for t, x in stage.x.items()})

    def encode(self, stage):
        return {t: tower(stage.x[t]) for t, tower in self.towers.items()}


def test_a_model_class_is_registered_under_its_name_and_trained(dataset, tmp_path):
    result = motive.train(data=dataset, model=TinyTowers, epochs=2, hits_k=5, out=tmp_path / "tiny")
    assert result.config.model == "tinytowers" and REGISTRY["tinytowers"].factory is TinyTowers
    again = motive.train(data=dataset, model=TinyTowers, epochs=2, hits_k=5, out=tmp_path / "tiny2")
    assert again.metrics["test"] == result.metrics["test"]  # the same registration, the same numbers


def test_a_model_instance_trains_from_its_own_weights(dataset, tmp_path):
    graph = layout.read_graph(dataset / "data" / "st_expanded" / "orf")
    from motive.models import StageGraph

    stage = StageGraph.build(graph, motive.make_split(graph, motive.SplitConfig("random")), "train")
    torch.manual_seed(123)
    model = TinyTowers(stage, hidden=4)
    start = {name: value.clone() for name, value in model.state_dict().items()}
    result = motive.train(data=dataset, model=model, epochs=2, hits_k=5, out=tmp_path / "instance")
    assert result.model is model and result.config.model == "tinytowers_instance"
    assert any(not torch.equal(start[name], value) for name, value in model.state_dict().items())  # trained
    with pytest.raises(MotiveError, match="an instance is built already"):
        motive.train(data=dataset, model=model, model_kwargs={"hidden": 8}, out=tmp_path / "no")
    with pytest.raises(MotiveError, match="expected a name, a LinkModel class or instance"):
        motive.train(data=dataset, model=3, out=tmp_path / "no")


def test_predictions_carry_the_query_side_the_threshold_and_a_page(dataset, tmp_path):
    motive.train(data=dataset, split="cold_target", model="mlp", epochs=2, hits_k=5, out=tmp_path / "run")
    genes = pd.read_parquet(dataset / "data" / "st_expanded" / "orf" / "target.parquet").iloc[:2] * 1.05
    genes.index = pd.Index(["G1", "G2"], name="Metadata_Symbol")
    predictions = motive.predict(tmp_path / "run", genes=genes, top_k=4)
    assert isinstance(predictions, motive.Predictions) and predictions.query_side == "target"
    assert np.isfinite(predictions.domain_threshold) and predictions.run == str(tmp_path / "run")
    assert len(predictions.table) == 8 and predictions.table.attrs == {}
    page = predictions.to_html("genes")
    assert page.startswith("<!") and "motive predictions: genes" in page and "G1" in page
    predictions.to_parquet(tmp_path / "ranked.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ranked.parquet"), predictions.table, check_dtype=False)


def test_the_evaluator_gives_the_pairs_to_score_in_ogbs_shape(dataset):
    split = motive.make_split(layout.read_graph(dataset / "data" / "st_expanded" / "orf"), motive.SplitConfig("random"))
    assert motive.audit(layout.read_graph(dataset / "data" / "st_expanded" / "orf"), split).passed
    motive.train(data=dataset, model="popularity", hits_k=5, out=dataset.parent / "pop")  # stores the split
    folder = dataset / "data" / "st_expanded" / "orf" / "splits" / "random" / "seed_0"
    evaluator = motive.Evaluator(folder, hits_k=5)
    pairs = evaluator.get_edge_split()
    assert set(pairs) == {"train", "valid", "test"} and set(pairs["train"]) == {"edge"}
    for stage in ("valid", "test"):
        edge, negative = pairs[stage]["edge"], pairs[stage]["edge_neg"]
        assert list(edge.columns) == ["source", "target"] and len(negative) == 10 * len(edge)
    scored = pd.read_parquet(dataset.parent / "pop" / "predictions.parquet")
    assert len(scored[scored["stage"] == "test"]) == len(pairs["test"]["edge"]) + len(pairs["test"]["edge_neg"])
    assert motive.score(folder, scored, hits_k=5)["test"]["auroc"] == evaluator.eval(scored)["test"]["auroc"]


def test_importing_motive_leaves_torch_unloaded_until_an_export_needs_it():
    code = (
        "import sys, motive; assert 'torch' not in sys.modules; motive.make_split; motive.audit; motive.score; "
        "assert 'torch' not in sys.modules; motive.load_run; assert 'torch' in sys.modules; "
        "import pytest\ntry:\n    motive.nothing\nexcept AttributeError as e:\n    print(e)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "module 'motive' has no attribute 'nothing'"


def test_help_of_train_shows_every_settings_help():
    text = motive.train.__doc__
    assert "``final``: a final model for prediction" in text and "``side_edges``: let each stage see" in text


def test_a_graph_and_a_split_given_as_objects_train_like_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTIVE_CACHE", str(tmp_path / "cache"))
    graph = synth.generate(synth.SynthConfig(scale=0.05, seed=8, signal=1.0))["st_expanded"]
    split = motive.make_split(graph, motive.SplitConfig("cold_source", 3))
    result = motive.train(data=graph, split=split, model="knn", hits_k=5, out=tmp_path / "run")
    assert result.config.split == "cold_source" and result.config.graph == "st_expanded"
    from motive.training.runs import load_run

    loaded = load_run(tmp_path / "run", device="cpu")
    assert np.array_equal(loaded.prepared.split.subsets["st"], split.subsets["st"])  # the very split given
    assert loaded.prepared.split.negatives["test"].equals(split.negatives["test"])
    again = motive.train(data=graph, split=split, model="knn", hits_k=5, out=tmp_path / "again")
    assert again.metrics["test"] == result.metrics["test"]
    with pytest.raises(MotiveError, match="needs its Graph as `data`"):
        motive.train(data=str(tmp_path), split=split, model="knn", out=tmp_path / "no")


def test_predicts_settings_are_declared_once_for_the_function_and_the_command():
    import inspect
    from dataclasses import MISSING, fields

    from motive.cli.parsers import parser
    from motive.predict.settings import PredictSettings

    command = next(
        action.choices["predict"] for action in parser()._actions if hasattr(action, "choices") and action.choices
    )
    options = {action.dest: action for action in command._actions}
    signature = inspect.signature(motive.predict).parameters
    for spec in fields(PredictSettings):
        assert spec.name in options and spec.metadata["help"] in (options[spec.name].help or "")
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        assert signature[spec.name].default == default
        assert f"``{spec.name}``: {spec.metadata['help']}" in motive.predict.__doc__
    with pytest.raises(MotiveError, match="top_k: must be a positive integer"):
        motive.predict("unused", genes="x", top_k=0)
