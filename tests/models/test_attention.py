"""GATv2 (``motive/models/attention.py``) against PyG's ``GATv2Conv``: values and gradients, for
the fused CPU loops and the chunked torch code (one chunk or many), nodes without incoming edges."""

import numpy as np
import pytest
import torch
from torch_geometric.nn import GATv2Conv

from motive import backend
from motive.models import attention
from motive.models.attention import AttentionIndex, GATv2


@pytest.mark.parametrize("kernel", ["fused", 1 << 19, 48])  # fused loops; chunked: one chunk, many of a few edges
@pytest.mark.parametrize("heads", [1, 2, 3])
def test_gatv2_equals_pyg_values_and_gradients(monkeypatch, kernel, heads):
    if kernel != "fused":
        monkeypatch.setattr(backend.settings, "fused_attention", False)
        monkeypatch.setattr(attention, "CHUNK_ELEMENTS", kernel)
    torch.manual_seed(heads)
    num_src, num_dst, channels = 40, 30, 11  # 11: a dot product's 8 partial sums and a remainder
    src, dst = torch.randint(0, num_src, (300,)), torch.randint(0, num_dst, (300,))
    dst[dst == 7] = 8  # node 7 receives nothing: its output is the bias alone
    src[src == 5] = 6  # node 5 sends nothing: it skips lin_l, and its gradient is zero
    theirs = GATv2Conv((6, 5), channels, heads=heads, concat=False, add_self_loops=False)
    ours = GATv2(6, 5, channels, heads)
    assert {name for name, _ in ours.named_parameters()} == {name for name, _ in theirs.named_parameters()}
    ours.load_state_dict(theirs.state_dict())
    x_src, x_dst = torch.randn(num_src, 6, dtype=torch.float64), torch.randn(num_dst, 5, dtype=torch.float64)
    ours.double(), theirs.double()
    index = AttentionIndex.from_edges(src.numpy(), dst.numpy(), num_src, num_dst)
    inputs = [x.clone().requires_grad_(True) for x in (x_src, x_dst, x_src, x_dst)]
    out_ours, out_theirs = ours(inputs[0], inputs[1], index), theirs((inputs[2], inputs[3]), torch.stack([src, dst]))
    torch.testing.assert_close(out_ours, out_theirs, rtol=1e-10, atol=1e-10)
    weights = torch.randn_like(out_ours)
    (out_ours * weights).sum().backward()
    (out_theirs * weights).sum().backward()
    torch.testing.assert_close(inputs[0].grad, inputs[2].grad, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(inputs[1].grad, inputs[3].grad, rtol=1e-10, atol=1e-10)
    assert inputs[0].grad[5].abs().sum() == 0 and inputs[0].grad[6].abs().sum() > 0
    for (name, mine), (_, pyg) in zip(sorted(ours.named_parameters()), sorted(theirs.named_parameters()), strict=True):
        torch.testing.assert_close(mine.grad, pyg.grad, rtol=1e-10, atol=1e-10, msg=name)


def test_gatv2_without_edges_returns_the_bias():
    layer = GATv2(4, 4, 3, 2)
    layer.bias.data = torch.tensor([1.0, 2.0, 3.0])
    index = AttentionIndex.from_edges(np.array([], np.int64), np.array([], np.int64), 5, 2)
    assert torch.equal(layer(torch.randn(5, 4), torch.randn(2, 4), index), torch.tensor([[1.0, 2.0, 3.0]] * 2))


def test_fused_and_chunked_attention_agree_in_float32():
    """The two implementations on one float32 graph: the same numbers up to the order of the
    channel sums (the fused loops sum 8 partial sums; torch's mv its own way)."""
    torch.manual_seed(0)
    num_src, num_dst, heads, channels = 300, 200, 2, 64
    src, dst = torch.randint(0, num_src, (3000,)), torch.randint(0, num_dst, (3000,))
    index = AttentionIndex.from_edges(src.numpy(), dst.numpy(), num_src, num_dst)
    x_src, x_dst = torch.randn(num_src, heads, channels), torch.randn(num_dst, heads, channels)
    att, weights = torch.randn(heads, channels), torch.randn(num_dst, channels)
    results = []
    for function in (attention._GATv2AttentionFused, attention._GATv2Attention):
        inputs = [t.clone().requires_grad_(True) for t in (x_src, x_dst, att)]
        out = function.apply(*inputs, index)
        if function is attention._GATv2Attention:  # the fused loops average the heads themselves
            out = out.mean(dim=1)
        (out * weights).sum().backward()
        results.append([out.detach(), *(t.grad for t in inputs)])
    for fused, chunked in zip(*results, strict=True):
        torch.testing.assert_close(fused, chunked, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("heads", [1, 2, 3])
def test_fused_loops_average_the_heads_with_the_bits_of_torchs_mean(heads):
    """Each head's weighted sum in edge order (float32, as the loops add), then torch's ``mean``
    over the heads: the loops' output has exactly these bits."""
    from motive.models import attention_kernels

    rng = np.random.default_rng(heads)
    num_src, num_dst, channels = 30, 20, 13
    src, dst = rng.integers(0, num_src, 200), rng.integers(0, num_dst, 200)
    dst[dst == 3] = 4  # destination 3 receives nothing: a row of zeros
    index = AttentionIndex.from_edges(src, dst, num_src, num_dst)
    x_src, x_dst = (rng.standard_normal((n, heads, channels), dtype=np.float32) for n in (num_src, num_dst))
    att = rng.standard_normal((heads, channels), dtype=np.float32)
    out, alpha = np.empty((num_dst, channels), np.float32), np.empty((len(src), heads), np.float32)
    pointer, order = index.pointer(), index.src.numpy()
    attention_kernels.forward(x_src, x_dst, att, order, pointer, np.float32(0.2), np.float32(1e-16), out, alpha)
    summed = np.zeros((num_dst, heads, channels), np.float32)
    for i in range(num_dst):
        for e in range(pointer[i], pointer[i + 1]):
            for h in range(heads):
                summed[i, h] += alpha[e, h] * x_src[order[e], h]
    assert np.array_equal(out, torch.from_numpy(summed).mean(dim=1).numpy())
    assert not out[3].any()


def test_fused_loops_compute_in_the_inputs_dtype():
    """float32 in, float32 arithmetic throughout: no variable of the compiled loops is float64 (a
    literal 0 or 1 mixed into float32 arithmetic makes numba widen it, twice as slow)."""
    import io

    from motive.models import attention_kernels

    test_fused_and_chunked_attention_agree_in_float32()  # compiles both loops for float32
    for function in (attention_kernels.forward, attention_kernels.backward):  # _dot: the type of its result there
        float32 = [signature for signature in function.signatures if "float32" in str(signature)]
        assert float32, function
        for signature in float32:
            typed = io.StringIO()
            function.inspect_types(file=typed, signature=signature)
            widened = [line for line in typed.getvalue().splitlines() if "::" in line and "float64" in line]
            assert not widened, widened[:3]


def test_fused_logits_have_the_bits_of_the_dot_of_the_activated_sum():
    """The forward loop's logit (``_logit``: activation and dot product in one loop) has the bits
    of ``_dot`` over the activated values computed first, as the loop did before: its sum is
    vectorised in the same order, and the slope's product is not reassociated into it."""
    from motive.models import attention_kernels

    rng = np.random.default_rng(0)
    slope, zero = np.float32(attention.NEGATIVE_SLOPE), np.float32(0)
    for channels in (1, 7, 64, 100, 256):
        for _ in range(20):
            x_src, x_dst, att = (rng.normal(size=channels).astype(np.float32) for _ in range(3))
            value = x_src + x_dst
            activated = np.where(value > 0, value, value * slope)
            fused = attention_kernels._logit(x_src, x_dst, att, slope, zero)
            assert np.float32(fused).tobytes() == np.float32(attention_kernels._dot(activated, att, zero)).tobytes()


def test_rows_keeps_only_the_edges_into_the_given_destinations_in_order():
    """``AttentionIndex.rows`` (read off the row pointers) against a mask over every edge, on
    random graphs, some destinations without edges, and no destination at all."""
    rng = np.random.default_rng(0)
    for _ in range(30):
        num_src, num_dst, edges = (int(n) for n in rng.integers(1, 30, 3))
        index = AttentionIndex.from_edges(
            rng.integers(0, num_src, 3 * edges), rng.integers(0, num_dst, 3 * edges), num_src, num_dst
        )
        kept = torch.as_tensor(np.sort(rng.choice(num_dst, int(rng.integers(0, num_dst + 1)), replace=False)))
        rows = index.rows(kept)
        position = torch.full((num_dst,), -1)
        position[kept] = torch.arange(len(kept))
        local = position[index.dst]
        assert torch.equal(rows.src, index.src[local >= 0]) and torch.equal(rows.dst, local[local >= 0])
        assert (rows.num_src, rows.num_dst) == (num_src, len(kept))
        pointer = np.concatenate([[0], np.cumsum(np.bincount(rows.dst.numpy(), minlength=len(kept)))])
        assert np.array_equal(rows.pointer(), pointer)
