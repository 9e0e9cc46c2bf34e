"""What a run works on (``motive/training/prepare.py``): refused before anything is written when Hits@K
needs more negatives than the split has, or a GPU is asked for on a machine without one."""

import pytest
import torch

from motive.errors import MotiveError
from motive.training.config import TrainConfig
from motive.training.loop import run


@pytest.fixture(scope="module")
def dataset(planted_dataset):
    return planted_dataset


def test_too_few_negatives_for_hits_k_is_an_error(dataset, tmp_path):
    config = TrainConfig(data=str(dataset), model="mlp", epochs=1, hits_k=10**6)
    with pytest.raises(MotiveError, match="needs at least 1000000 negatives"):
        run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU; the refusal is for machines without one")
def test_cuda_without_a_gpu_is_a_one_line_error(dataset, tmp_path):
    with pytest.raises(MotiveError, match="no CUDA GPU is visible here; use `device` cpu or auto"):
        run(TrainConfig(data=str(dataset), model="gin_cp", epochs=1, hits_k=20, device="cuda"), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_runs_of_one_split_share_what_they_read_and_a_changed_file_is_read_again(dataset, tmp_path):
    import shutil

    from motive.data import layout
    from motive.training.prepare import prepare

    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    first = prepare(TrainConfig(data=str(data), model="mlp", hits_k=20))
    other_model = prepare(TrainConfig(data=str(data), model="gin_cp", seed=3, lr=0.01, hits_k=20))
    assert other_model.graph is first.graph and other_model.split is first.split
    assert other_model.stages["train"] is first.stages["train"]
    assert (
        prepare(TrainConfig(data=str(data), split="cold_source", hits_k=20)).stages["train"]
        is not first.stages["train"]
    )
    folder = layout.graph_dir(data, "st_expanded")
    graph = layout.read_graph(folder)
    graph.sources.x[0, 0] += 1.0  # the same file names, other bytes
    layout.write_graph(graph, folder, overwrite=True)
    again = prepare(TrainConfig(data=str(data), model="mlp", hits_k=20))
    assert again.graph_hash != first.graph_hash and again.graph.sources.x[0, 0] == graph.sources.x[0, 0]


def test_runs_with_a_view_from_another_file_share_it_until_its_bytes_change(dataset, tmp_path):
    """A structure view is read from its own file: runs that read it share the stage graphs while
    its bytes stay the same, and a rewritten file (same name) is read again."""
    import shutil

    import numpy as np
    import pandas as pd

    from motive.data import layout
    from motive.data.views import STRUCTURE_FILE
    from motive.training.prepare import prepare

    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    keys = layout.read_graph(layout.graph_dir(data, "st_expanded")).sources.keys
    bits = np.random.default_rng(0).random((len(keys), 16)) < 0.3
    (data / STRUCTURE_FILE).parent.mkdir(exist_ok=True)
    pd.DataFrame(bits, index=keys, columns=[f"bit_{i}" for i in range(16)]).to_parquet(data / STRUCTURE_FILE)
    views = {"source": ["profile", "structure"], "target": ["profile"]}
    first = prepare(TrainConfig(data=str(data), model="mlp", views=views, hits_k=20))
    again = prepare(TrainConfig(data=str(data), model="evidence_ranker", seed=2, views=views, hits_k=20))
    assert again.stages["valid"] is first.stages["valid"]
    pd.DataFrame(~bits, index=keys, columns=[f"bit_{i}" for i in range(16)]).to_parquet(data / STRUCTURE_FILE)
    changed = prepare(TrainConfig(data=str(data), model="mlp", views=views, hits_k=20))
    assert changed.stages["valid"] is not first.stages["valid"]
    read = changed.stages["valid"].views["source"]["structure"].numpy().astype(bool)
    assert np.array_equal(read, ~bits)
