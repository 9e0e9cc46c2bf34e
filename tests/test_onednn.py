"""The oneDNN layer swap (``motive.backend.accelerate``): torch's numbers to rounding, values and
gradients, for the row counts fixed for a run; torch's own path for every other product."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from motive import backend
from motive.backend import OneDNNLinear, accelerate
from motive.models.base import distinct

needs_onednn = pytest.mark.skipif(
    not backend.onednn(), reason="this torch has no oneDNN (mkldnn) CPU kernels, or the reference backend is forced"
)


def leaves(*shapes: tuple[int, ...], dtype=torch.float32) -> list[nn.Parameter]:
    generator = torch.Generator().manual_seed(sum(map(sum, shapes)))
    return [nn.Parameter(torch.randn(shape, generator=generator, dtype=dtype)) for shape in shapes]


def through(rows: int):
    """``F.linear(x, weight, bias)`` as an ``nn.Linear`` holding these parameters computes it
    once swapped for ``rows``-row inputs."""

    def linear(x, weight, bias=None):
        layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, device="meta")
        layer.weight, layer.bias = weight, bias
        return accelerate(nn.Sequential(layer), [rows])[0](x)

    return linear


def gradients(function, tensors: list[torch.Tensor], upstream: torch.Tensor) -> list[torch.Tensor]:
    return torch.autograd.grad(function(*tensors), tensors, upstream)


@needs_onednn
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(300, 70, 50), (5, 722, 64), (400, 64, 128), (1, 64, 128)])
def test_linear_equals_torchs_in_value_and_gradients(shape, bias):
    rows, width_in, width_out = shape
    tensors = leaves((rows, width_in), (width_out, width_in), *([(width_out,)] if bias else []))
    upstream = torch.randn(rows, width_out, generator=torch.Generator().manual_seed(1))
    linear = through(rows)
    ours, theirs = linear(*tensors), F.linear(*tensors)
    assert ours.grad_fn is not None and "Linear" in type(ours.grad_fn).__name__  # the oneDNN path ran
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-4)  # sums of up to 722 terms
    for mine, reference in zip(
        gradients(linear, tensors, upstream), gradients(F.linear, tensors, upstream), strict=True
    ):
        torch.testing.assert_close(mine, reference, rtol=1e-5, atol=1e-4)


@needs_onednn
def test_linear_reads_strided_inputs_and_skips_the_input_gradient_of_a_constant():
    x = torch.randn(64, 40)[:, ::2]  # not contiguous
    weight, bias = leaves((8, 20), (8,))
    out = through(64)(x, weight, bias)
    assert "Linear" in type(out.grad_fn).__name__
    torch.testing.assert_close(out, F.linear(x, weight, bias), rtol=1e-5, atol=1e-5)
    out.sum().backward()
    torch.testing.assert_close(weight.grad, torch.ones(64, 8).T @ x, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(bias.grad, torch.full((8,), 64.0))


@needs_onednn
def test_same_inputs_same_bits_and_a_changed_weight_is_read_again():
    torch.manual_seed(0)
    layer = accelerate(nn.Sequential(nn.Linear(30, 12)), [200])[0]
    x = torch.randn(200, 30)
    first = layer(x)
    assert torch.equal(layer(x), first)
    with torch.no_grad():
        layer.weight.mul_(2)
    torch.testing.assert_close(layer(x), F.linear(x, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)


@needs_onednn
def test_only_the_fixed_row_counts_reach_onednn_and_the_switch_is_read_at_each_call(monkeypatch):
    """A batch's own rows (another count every batch) take torch's kernels: oneDNN would keep a
    compiled kernel for each count. ``use("reference")`` after the swap turns it off at once."""
    torch.manual_seed(0)
    layer = accelerate(nn.Sequential(nn.Linear(8, 3)), [50])[0]
    assert "Linear" in type(layer(torch.randn(50, 8)).grad_fn).__name__
    assert type(layer(torch.randn(49, 8)).grad_fn).__name__ == "AddmmBackward0"
    accelerate(nn.Sequential(layer), [49])  # an already swapped layer adds counts
    assert layer.fixed_rows == {49, 50} and "Linear" in type(layer(torch.randn(49, 8)).grad_fn).__name__
    monkeypatch.setattr(backend, "settings", backend.Settings())
    backend.use("reference")
    assert type(layer(torch.randn(50, 8)).grad_fn).__name__ == "AddmmBackward0"


def test_float64_and_an_empty_batch_take_torchs_own_path_bit_for_bit():
    x, weight, bias = leaves((20, 6), (4, 6), (4,), dtype=torch.float64)
    assert torch.equal(through(20)(x, weight, bias), F.linear(x, weight, bias))
    empty = torch.zeros(0, 6)
    assert through(0)(empty, nn.Parameter(weight.float()), nn.Parameter(bias.float())).shape == (0, 4)


def test_the_swap_keeps_parameters_state_dict_and_an_optimizer_built_before():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 2, bias=False)))
    parameters = list(model.parameters())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(7, 10)
    expected = model(x)
    accelerate(model, [7])
    assert isinstance(model[0], OneDNNLinear) and isinstance(model[2][0], OneDNNLinear)
    assert [p is q for p, q in zip(model.parameters(), parameters, strict=True)] == [True] * 3
    assert model.state_dict().keys() == before.keys()
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-6)
    model(x).sum().backward()
    optimizer.step()  # the optimizer updates the swapped layers' parameters
    assert not torch.equal(model[0].weight, before["0.weight"])


def test_index_select_has_the_bits_of_indexing_in_value_and_gradient():
    """Why the GNNs' rows-only layer reads rows with ``index_select``: its gradient is an
    ``index_add_``, where indexing's is an ``index_put_`` that deterministic mode sorts first."""
    from motive.experiments.parallel import deterministic

    (x,) = leaves((50, 7))
    rows = torch.tensor([0, 3, 4, 17, 49])
    upstream = torch.randn(5, 7, generator=torch.Generator().manual_seed(2))
    previous = torch.are_deterministic_algorithms_enabled()
    deterministic(True)  # as in training: indexing's gradient then sorts, index_select's does not
    try:
        functions = (lambda t: torch.index_select(t, 0, rows), lambda t: t[rows])
        ours, theirs = (torch.autograd.grad(f(x), x, upstream)[0] for f in functions)
    finally:
        deterministic(previous)
    assert torch.equal(torch.index_select(x, 0, rows), x[rows]) and torch.equal(ours, theirs)
    assert torch.equal(ours[rows], upstream) and not ours[1].any()


@pytest.mark.parametrize("size", [1, 7, 5000])
def test_distinct_gives_torch_uniques_rows_and_inverse(size):
    from motive.experiments.parallel import deterministic

    generator = torch.Generator().manual_seed(size)
    previous = torch.are_deterministic_algorithms_enabled()
    deterministic(True)  # as in training
    try:
        for count in (0, 1, 3, 40, 4096):
            ids = torch.randint(0, size, (count,), generator=generator)
            rows, at = distinct(ids, size)
            expected_rows, expected_at = torch.unique(ids, return_inverse=True)
            assert torch.equal(rows, expected_rows) and torch.equal(at, expected_at)
            assert rows.dtype == at.dtype == torch.int64 and torch.equal(rows[at], ids)
    finally:
        deterministic(previous)


@needs_onednn
@pytest.mark.parametrize("onednn", [True, False])
def test_the_weight_gradient_takes_the_path_chosen_for_the_cpu(monkeypatch, onednn):
    """With AVX-512 the weight gradient runs in oneDNN, without it in torch's own kernel (MKL reads
    the transposed operand in place): the bits of that product, and torch's numbers to rounding."""
    monkeypatch.setattr(backend, "ONEDNN_WEIGHT_GRADIENT", onednn)
    for width_in, width_out in ((64, 128), (70, 50)):  # x narrower than the gradient, and wider
        x, weight = leaves((300, width_in), (width_out, width_in))
        upstream = torch.randn(300, width_out, generator=torch.Generator().manual_seed(3))
        (grad,) = torch.autograd.grad(through(300)(x, weight), weight, upstream)
        if onednn:
            expected = backend._product(x.T, upstream.T, None).T if width_in < width_out else None
            expected = backend._product(upstream.T, x.T, None) if expected is None else expected
        else:
            expected = torch.mm(upstream.T, x)
        assert torch.equal(grad, expected)
        torch.testing.assert_close(grad, upstream.T @ x, rtol=1e-5, atol=1e-4)
