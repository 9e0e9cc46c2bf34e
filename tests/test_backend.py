"""The accelerations' switch (``motive/backend.py``): the reference path is plain PyTorch, every
model passes the shared checks on it, it agrees with the accelerated path to rounding, and no
other module of motive calls a private torch API."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from motive import backend, testing
from motive.models import MODELS, build_model
from motive.testing import parametrize_with_checks
from motive.training.runs import accelerated


@pytest.fixture
def reference(monkeypatch):
    """The reference backend for one test (the process's settings restored after it)."""
    monkeypatch.setattr(backend, "settings", backend.Settings())
    backend.use("reference")


@parametrize_with_checks(MODELS)
def test_every_model_passes_the_shared_checks_on_the_reference_backend(reference, name, check):
    assert not backend.onednn() and not backend.fused_attention()
    check(name)


def test_the_reference_backend_takes_torchs_own_linear(reference):
    layer = backend.accelerate(torch.nn.Sequential(torch.nn.Linear(8, 3)), [50])[0]
    out = layer(torch.randn(50, 8, requires_grad=True))
    assert type(out.grad_fn).__name__ == "AddmmBackward0"


def test_the_environment_variable_forces_the_reference_path():
    code = (
        "from motive import backend; backend.settings.onednn = backend.settings.fused_attention = True; "
        "print(backend.onednn(), backend.fused_attention())"
    )
    env = {"MOTIVE_BACKEND": "reference", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split() == ["False", "False"]


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be reference or auto, got 'fast'"):
        backend.use("fast")


@pytest.mark.skipif(not backend.fused_attention(), reason="the reference backend is forced")
@pytest.mark.parametrize("name", ["gin_cp", "gat_cp", "mlp"])
def test_the_two_paths_give_the_same_scores_to_rounding(monkeypatch, name):
    """One model, one set of weights: its scores on the accelerated and the reference path."""
    prepared = testing.planted("random")
    torch.manual_seed(0)
    model = accelerated(build_model(name, prepared.stages["train"], hidden=16), prepared.stages.values())
    sources, targets = prepared.split.supervision(prepared.graph, "test")
    fast = model.score(prepared.stages["test"], sources, targets)
    monkeypatch.setattr(backend, "settings", backend.Settings())
    backend.use("reference")
    plain = model.score(prepared.stages["test"], sources, targets)
    torch.testing.assert_close(torch.as_tensor(plain), torch.as_tensor(fast), rtol=1e-5, atol=1e-5)


# torch._C, torch._foreach_*, torch.ops.mkldnn._*, a tensor's _version (dunders like __version__ are public)
PRIVATE = re.compile(r"torch(?:\.\w+)*\._(?!_)\w|(?<!motive)\._version\b|\.data_ptr\(")


def test_no_module_but_the_backend_calls_a_private_torch_api():
    source = Path(backend.__file__).parent
    found = [
        f"{path.relative_to(source)}:{number}: {line.strip()}"
        for path in sorted(source.rglob("*.py"))
        if path.name != "backend.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if PRIVATE.search(line.split("#")[0])
    ]
    assert found == []
    assert PRIVATE.search("torch.ops.mkldnn._linear_pointwise(x)")  # the pattern finds what it is for
