"""Dense layers through oneDNN: the numbers of torch's own products to rounding, values and
gradients, and torch's own path wherever oneDNN does not apply."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from motive import backend
from motive.models.dense import Linear, linear, matmul

needs_onednn = pytest.mark.skipif(
    not backend.onednn(), reason="this torch has no oneDNN (mkldnn) CPU kernels, or the reference backend is forced"
)


def leaves(*shapes: tuple[int, ...], dtype=torch.float32) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(sum(map(sum, shapes)))
    return [torch.randn(shape, generator=generator, dtype=dtype).requires_grad_() for shape in shapes]


def gradients(function, tensors: list[torch.Tensor], upstream: torch.Tensor) -> list[torch.Tensor]:
    return torch.autograd.grad(function(*tensors), tensors, upstream)


@needs_onednn
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(300, 70, 50), (5, 722, 64), (400, 64, 128), (1, 64, 128)])
def test_linear_equals_torchs_in_value_and_gradients(shape, bias):
    rows, width_in, width_out = shape
    tensors = leaves((rows, width_in), (width_out, width_in), *([(width_out,)] if bias else []))
    upstream = torch.randn(rows, width_out, generator=torch.Generator().manual_seed(1))
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
    out = linear(x, weight, bias)
    torch.testing.assert_close(out, F.linear(x, weight, bias), rtol=1e-5, atol=1e-5)
    out.sum().backward()
    torch.testing.assert_close(weight.grad, torch.ones(64, 8).T @ x, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(bias.grad, torch.full((8,), 64.0))


@needs_onednn
def test_matmul_equals_the_product_in_value_and_gradients():
    a, b = leaves((33, 17), (17, 9))
    upstream = torch.randn(33, 9, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(matmul(a, b), a @ b, rtol=1e-5, atol=1e-5)
    for mine, reference in zip(gradients(matmul, [a, b], upstream), gradients(torch.mm, [a, b], upstream), strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-5, atol=1e-4)


@needs_onednn
def test_same_inputs_same_bits_and_a_changed_weight_is_read_again():
    layer = Linear(30, 12)
    x = torch.randn(200, 30)
    first = layer(x)
    assert torch.equal(layer(x), first)
    with torch.no_grad():
        layer.weight.mul_(2)
    torch.testing.assert_close(layer(x), F.linear(x, layer.weight, layer.bias), rtol=1e-5, atol=1e-5)


def test_float64_and_an_empty_batch_take_torchs_own_path_bit_for_bit():
    x, weight, bias = leaves((20, 6), (4, 6), (4,), dtype=torch.float64)
    assert torch.equal(linear(x, weight, bias), F.linear(x, weight, bias))
    empty = torch.zeros(0, 6)
    assert linear(empty, weight.float(), bias.float()).shape == (0, 4)


def test_linear_layer_keeps_nn_linears_parameters_and_state_dict():
    torch.manual_seed(0)
    reference = nn.Linear(10, 3)
    torch.manual_seed(0)
    ours = Linear(10, 3)  # the same initialisation draws
    assert torch.equal(ours.weight, reference.weight) and torch.equal(ours.bias, reference.bias)
    assert ours.state_dict().keys() == reference.state_dict().keys()
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(7, 10)
    torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-6)


@needs_onednn
def test_varying_shapes_sends_products_to_torchs_own_kernels_and_restores_on_exit():
    x, weight = leaves((50, 8), (3, 8))
    assert "Linear" in type(linear(x, weight).grad_fn).__name__
    with backend.varying_shapes():
        with backend.varying_shapes():
            pass
        inside = linear(x, weight)  # still inside after a nested block ends
    assert type(inside.grad_fn).__name__ == "MmBackward0"
    assert "Linear" in type(linear(x, weight).grad_fn).__name__


def test_select_rows_has_the_bits_of_indexing_in_value_and_gradient():
    from motive.models.dense import select_rows
    from motive.parallel import deterministic

    (x,) = leaves((50, 7))
    rows = torch.tensor([0, 3, 4, 17, 49])
    upstream = torch.randn(5, 7, generator=torch.Generator().manual_seed(2))
    previous = torch.are_deterministic_algorithms_enabled()
    deterministic(True)  # as in training: indexing's gradient then sorts, index_select's does not
    try:
        ours, theirs = (
            torch.autograd.grad(f(x), x, upstream)[0] for f in (lambda t: select_rows(t, rows), lambda t: t[rows])
        )
    finally:
        deterministic(previous)
    assert torch.equal(select_rows(x, rows), x[rows]) and torch.equal(ours, theirs)
    assert torch.equal(ours[rows], upstream) and not ours[1].any()


@pytest.mark.parametrize("size", [1, 7, 5000])
def test_distinct_gives_torch_uniques_rows_and_inverse(size):
    from motive.models.dense import distinct
    from motive.parallel import deterministic

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
        (grad,) = torch.autograd.grad(linear(x, weight), weight, upstream)
        if onednn:
            expected = backend._product(x.T, upstream.T, None).T if width_in < width_out else None
            expected = backend._product(upstream.T, x.T, None) if expected is None else expected
        else:
            expected = torch.mm(upstream.T, x)
        assert torch.equal(grad, expected)
        torch.testing.assert_close(grad, upstream.T @ x, rtol=1e-5, atol=1e-4)
