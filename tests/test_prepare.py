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
