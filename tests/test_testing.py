"""The shared model checks (``motive/testing.py``) pass a correct plugin and catch each broken one:
a check that cannot fail would prove nothing about the built-ins that pass it."""

import os

import numpy as np
import pytest
import torch
from torch import nn

from motive import testing
from motive.models import REGISTRY, LinkModel, register_model


class TwoTower(LinkModel):
    """A correct plugin: one linear tower per node type, dot product."""

    def __init__(self, stage, hidden: int = 8):
        super().__init__()
        self.towers = nn.ModuleDict({t: nn.Linear(x.shape[1], hidden) for t, x in stage.x.items()})

    def encode(self, stage):
        return {t: tower(stage.x[t]) for t, tower in self.towers.items()}


class Noisy(TwoTower):
    """Initialised from the operating system's entropy, not the seed: another model every run."""

    def __init__(self, stage, hidden: int = 8):
        super().__init__(stage, hidden)
        self.register_buffer("offset", torch.tensor(int.from_bytes(os.urandom(2), "little") / 1e5))

    def encode(self, stage):
        return {t: z + self.offset for t, z in super().encode(stage).items()}


class MatrixDisagrees(TwoTower):
    """A full-matrix decoder that does not agree with its pair decoder."""

    def decode_matrix(self, z, sources, targets):
        return super().decode_matrix(z, sources, targets) * 2


class CachesEmbeddings(TwoTower):
    """Keeps the embeddings of the first stage it scores (a speed-up gone wrong): every later
    stage is scored with that stage's edges and weights."""

    def __init__(self, stage, hidden: int = 8):
        super().__init__(stage, hidden)
        self.cached = None

    def encode(self, stage):
        if self.training:
            return super().encode(stage)
        if self.cached is None:
            edges = sum(len(a) for a, _ in stage.edges.values())  # the stage's edges enter the embeddings
            self.cached = {t: z + edges / 1e4 for t, z in super().encode(stage).items()}
        return self.cached


class QuietlyTransductive(TwoTower):
    transductive = True  # one vector per node, but registered as if it scored unseen nodes


PLUGINS = {
    "test_two_tower": (TwoTower, None),
    "test_noisy": (Noisy, "check_cpu_determinism"),
    "test_matrix_disagrees": (MatrixDisagrees, "check_pair_scores_agree"),
    "test_caches_embeddings": (CachesEmbeddings, "check_reads_only_visible_edges"),
    "test_quietly_transductive": (QuietlyTransductive, "check_cold_splits"),
}


@pytest.fixture(scope="module", autouse=True)
def registered():
    for name, (cls, _) in PLUGINS.items():
        register_model(name, cls, refuses=lambda split_name: None)
    yield
    for name in PLUGINS:
        REGISTRY.pop(name)


def test_a_correct_plugin_passes_every_check():
    testing.check_model("test_two_tower")


@pytest.mark.parametrize("name", [name for name, (_, check) in PLUGINS.items() if check])
def test_each_broken_plugin_fails_exactly_its_check(name):
    failing = PLUGINS[name][1]
    outcomes = {}
    for check in testing.CHECKS:
        try:
            check(name)
        except AssertionError as error:
            outcomes[check.__name__] = str(error)
    assert list(outcomes) == [failing], outcomes
    assert name in outcomes[failing]


def test_parametrize_with_checks_names_every_case():
    mark = testing.parametrize_with_checks(["a", "b"])
    assert mark.kwargs["ids"][:2] == ["a-check_shapes_and_dtypes", "a-check_cpu_determinism"]
    assert len(mark.args[1]) == 2 * len(testing.CHECKS)
    assert np.all([callable(check) for _, check in mark.args[1]])
