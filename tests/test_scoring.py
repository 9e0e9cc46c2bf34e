"""Scoring outside predictions (``motive/evaluation/scoring.py``): a run's own scores, given as tables, give
its metrics.json numbers exactly; bad tables are one line each."""

import json

import numpy as np
import pandas as pd
import pytest

import motive
from motive.cli import main
from motive.data import layout, synth
from motive.evaluation.evaluator import query_side
from motive.names import STAGES
from motive.training.config import TrainConfig
from motive.training.loop import run
from motive.training.runs import load_run


@pytest.fixture(scope="module", params=["cold_source", "cold_target"])
def trained(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("scoring")
    layout.write_dataset(synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0)), root / "data")
    config = TrainConfig(
        data=str(root / "data"), split=request.param, model="knn", hits_k=5, ranking_eval=True, eval_negatives="degree"
    )
    run(config, root / "run")
    split_folder = root / "data" / "data" / "st_expanded" / "orf" / "splits" / request.param / "seed_0"
    return root, split_folder, request.param


def full_ranking_table(root, split_name) -> pd.DataFrame:
    """Every score the full ranking reads, as the (query, candidate, score) table an outsider gives."""
    loaded = load_run(root / "run", device="cpu")
    graph, split = loaded.prepared.graph, loaded.prepared.split
    side = query_side(split_name)
    other = "target" if side == "source" else "source"
    keys = {"source": graph.sources.keys.to_numpy(), "target": graph.targets.keys.to_numpy()}
    frames = []
    for stage in ("valid", "test"):
        s, t = split.supervision(graph, stage)
        queries = np.unique(s if side == "source" else t)
        candidates = np.flatnonzero(split.node_stage[other] <= STAGES.index(stage))
        for start, block in loaded.model.score_blocks(loaded.prepared.stages[stage], side, queries, candidates):
            rows = queries[start : start + len(block)]
            frames.append(
                pd.DataFrame(
                    {
                        "query": np.repeat(keys[side][rows], len(candidates)),
                        "candidate": np.tile(keys[other][candidates], len(rows)),
                        "score": block.ravel(),
                        "stage": stage,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def test_rescoring_a_runs_own_predictions_gives_its_metrics_exactly(trained, tmp_path):
    root, split_folder, split_name = trained
    stored = json.loads((root / "run" / "metrics.json").read_text())
    evaluator = motive.Evaluator(split_folder, hits_k=5, eval_negatives="degree")
    assert "source, target, score" in evaluator.expected_input_format
    ranking = full_ranking_table(root, split_name)
    result = evaluator.eval(root / "run" / "predictions.parquet", ranking)
    assert result["valid"] == stored["valid"] and result["test"] == stored["test"]
    # without a ranking table: the sampled metrics, equal too
    sampled = evaluator.eval(root / "run" / "predictions.parquet")
    assert sampled["test"] == {name: value for name, value in stored["test"].items() if not name.startswith("full_")}
    out = tmp_path / "scores.json"
    argv = ["-q", "score", str(split_folder), str(root / "run" / "predictions.parquet"), "--hits-k", "5"]
    assert main([*argv, "--eval-negatives", "degree", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["test"] == sampled["test"]


def test_bad_prediction_tables_are_one_line(trained, tmp_path, capsys):
    root, split_folder, _ = trained
    predictions = pd.read_parquet(root / "run" / "predictions.parquet")
    cases = {
        "missing": (predictions.iloc[1:], "pair(s) have no score, e.g."),
        "duplicate": (pd.concat([predictions, predictions.iloc[:1]]), "duplicate pair"),
        "nan": (predictions.assign(score=np.r_[np.nan, predictions["score"].to_numpy()[1:]]), "1 NaN, infinite"),
        "unknown": (predictions.assign(source=["NOTACOMPOUND"] * len(predictions)), "'NOTACOMPOUND' is not a source"),
        "no score": (predictions.drop(columns="score"), "column 'score' missing"),
    }
    for name, (table, message) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.parquet"
        table.to_parquet(path)
        code = main(["-q", "score", str(split_folder), str(path), "--hits-k", "5", "--out", str(tmp_path / "s.json")])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and message in err, (name, err)
        assert not (tmp_path / "s.json").exists()
