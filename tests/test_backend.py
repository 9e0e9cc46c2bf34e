"""The accelerations' switch (``motive/backend.py``): the reference path is plain PyTorch, every
model passes the shared checks on it, it agrees with the accelerated path to rounding, and no
other module of motive calls a private torch API."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from motive import backend, testing
from motive.models import MODELS, build_model
from motive.models.products import Products
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


def test_the_reference_backend_takes_torchs_own_score_matrix(reference):
    products = backend.accelerate(torch.nn.ModuleList([Products()]), [])[0]
    left, right = torch.randn(5, 8, requires_grad=True), torch.randn(3, 8)
    out = products(left, right)
    assert type(out.grad_fn).__name__ == "MmBackward0"
    assert torch.equal(out, left @ right.T)


@pytest.mark.skipif(not backend.onednn(), reason="oneDNN is not available or the reference backend is forced")
def test_score_matrices_are_swapped_for_onednn_and_agree_with_the_reference():
    """The feature models' score matrices (``Products``) go through oneDNN once training swaps
    them, at any shape, and give the reference product to rounding, gradient included."""
    model = accelerated(build_model("bilinear", testing.planted("random").stages["train"]), [])
    assert type(model.products) is backend.OneDNNProducts
    left, right = torch.randn(37, 300, requires_grad=True), torch.randn(23, 300)
    fast = model.products(left, right)
    assert type(fast.grad_fn).__name__ == "_LinearBackward"
    torch.testing.assert_close(fast, left @ right.T)
    (grad_fast,) = torch.autograd.grad(fast.sum(), left)
    (grad_plain,) = torch.autograd.grad((left @ right.T).sum(), left)
    torch.testing.assert_close(grad_fast, grad_plain)


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
@pytest.mark.parametrize("name", ["gin_cp", "gat_cp", "mlp", "bilinear", "cosine"])
def test_the_two_paths_give_the_same_scores_to_rounding(monkeypatch, name):
    """One model, one set of weights: its scores, pairs and score matrices, on the accelerated
    and the reference path."""
    prepared = testing.planted("random")
    torch.manual_seed(0)
    options = {} if name == "bilinear" else {"hidden": 16}
    model = accelerated(build_model(name, prepared.stages["train"], **options), prepared.stages.values())
    stage = prepared.stages["test"]
    sources, targets = prepared.split.supervision(prepared.graph, "test")
    queries, candidates = np.unique(sources), np.arange(stage.num_nodes["target"])

    def scores() -> tuple[np.ndarray, np.ndarray]:
        blocks = dict(model.score_blocks(stage, "source", queries, candidates, block=7))
        return model.score(stage, sources, targets), np.concatenate([blocks[start] for start in sorted(blocks)])

    fast = scores()
    monkeypatch.setattr(backend, "settings", backend.Settings())
    backend.use("reference")
    for plain, accelerated_ in zip(scores(), fast, strict=True):
        torch.testing.assert_close(torch.as_tensor(plain), torch.as_tensor(accelerated_), rtol=1e-5, atol=1e-5)


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
