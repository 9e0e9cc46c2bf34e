"""GATv2 attention as two fused CPU loops (numba): one pass over the edges forward and one
backward, where the chunked torch version makes about twenty passes over (edges x heads x
channels) buffers. Same rules as ``attention._GATv2Attention`` (PyG's softmax: shift by the
maximum, +1e-16 in the sum; leaky ReLU's gradient slope where z <= 0).

Edges are sorted by destination; ``pointer[i]:pointer[i + 1]`` are destination i's edges. Loops
run one thread in a fixed order, so the same inputs give the same bits on a machine whatever the
thread count. The dot products over channels let the compiler vectorise their sum (its order
then depends on the CPU's vector width, as MKL's matrix products do); every other sum runs in
edge order. Compiled on first use and cached next to this file (numba's ``cache=True``).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

AHEAD = 4  # edges between a row's prefetch and its use (2-8 measured alike; 16 slower)


@intrinsic
def _prefetch_row(typingctx, array, row):
    """Ask the CPU to bring ``array[row]`` (every 64-byte line of a C-contiguous array's row) into
    cache for reading: LLVM's prefetch, which never faults and changes no value."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0])
        stride = cgutils.unpack_tuple(builder, data.strides, array_type.ndim)[0]
        i64, i32, byte_pointer = ir.IntType(64), ir.IntType(32), ir.IntType(8).as_pointer()
        start = builder.add(builder.ptrtoint(data.data, i64), builder.mul(args[1], stride))
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0i8"
        )
        lines = builder.udiv(builder.add(stride, i64(63)), i64(64))
        with cgutils.for_range(builder, lines) as loop:
            address = builder.inttoptr(builder.add(start, builder.mul(loop.index, i64(64))), byte_pointer)
            builder.call(prefetch, [address, i32(0), i32(3), i32(1)])  # read, keep in all caches, data
        return context.get_dummy_value()

    return types.void(array, row), codegen


@numba.njit(cache=True, fastmath={"reassoc"})
def _dot(a, b, zero):
    """sum_c a[c] * b[c] from ``zero`` (of the arrays' dtype: a literal 0 would make the sum float64),
    vectorised (reassociation is the only fast-math rule allowed)."""
    total = zero
    for c in range(a.shape[0]):
        total += a[c] * b[c]
    return total


@numba.njit(cache=True)
def _activated(a, b, slope):
    """LeakyReLU(a + b), compiled without fast-math rules, so that ``_logit``'s reassociation
    can reach only its own sum (never this product with the slope)."""
    value = a + b
    return value if value > 0 else value * slope


@numba.njit(cache=True, fastmath={"reassoc"})
def _logit(x_src, x_dst, att, slope, zero):
    """sum_c att[c] * LeakyReLU(x_src[c] + x_dst[c]): ``_dot`` of the activated sum and att in
    one loop, without storing the activated values (the same bits: the same vectorised sum)."""
    total = zero
    for c in range(att.shape[0]):
        total += _activated(x_src[c], x_dst[c], slope) * att[c]
    return total


@numba.njit(cache=True)
def forward(x_src, x_dst, att, src, pointer, slope, epsilon, out, alpha):
    """out[i] = mean_h sum_j alpha_ij^h x_src[j, h], every row of ``out`` (destinations x
    channels) written, as torch's ``mean`` over the heads (a sum from zero, then a division);
    alpha (edges, heads) is written too. Each edge's source row is read once for the logits (all
    heads) and again, from cache, for the sum."""
    heads, channels = att.shape
    zero = np.zeros(1, x_src.dtype)[0]
    count = np.empty(1, x_src.dtype)
    count[0] = heads  # in the dtype: ``/ heads`` would divide in float64
    maximum = np.empty(heads, x_src.dtype)
    total = np.empty(heads, x_src.dtype)
    summed = np.empty((heads, channels), x_src.dtype)
    for i in range(len(pointer) - 1):
        first, stop = pointer[i], pointer[i + 1]
        summed[:] = 0
        for e in range(first, stop):
            j = src[e]
            if e + AHEAD < stop:
                _prefetch_row(x_src, src[e + AHEAD])
            for h in range(heads):
                logit = _logit(x_src[j, h], x_dst[i, h], att[h], slope, zero)
                alpha[e, h] = logit
                if e == first or logit > maximum[h]:
                    maximum[h] = logit
        for h in range(heads):
            total[h] = 0
            for e in range(first, stop):
                weight = np.exp(alpha[e, h] - maximum[h])
                alpha[e, h] = weight
                total[h] += weight
            total[h] += epsilon
        for e in range(first, stop):
            j = src[e]
            if e + AHEAD < len(src):  # past this segment: the next destination's first edges
                _prefetch_row(x_src, src[e + AHEAD])
            for h in range(heads):
                weight = alpha[e, h] / total[h]
                alpha[e, h] = weight
                for c in range(channels):
                    summed[h, c] += weight * x_src[j, h, c]
        for c in range(channels):
            mean = zero
            for h in range(heads):
                mean += summed[h, c]
            out[i, c] = mean / count[0]


@numba.njit(cache=True)
def backward(grad_out, x_src, x_dst, att, alpha, src, pointer, slope, grad_src, grad_dst, grad_att):
    """Gradients of ``forward`` with respect to x_src, x_dst and att (``grad_out``: destinations x
    channels; each head gets it divided by the number of heads, as torch's ``mean`` does):
    ``grad_dst`` is written (every row), the others are summed into (pass them zeroed)."""
    heads, channels = att.shape
    longest = 0
    for i in range(len(pointer) - 1):
        longest = max(longest, pointer[i + 1] - pointer[i])
    weighted = np.empty((longest, heads), x_src.dtype)
    total = np.empty(heads, x_src.dtype)
    one = np.ones(1, x_src.dtype)[0]  # slope * 0 + 1 would be float64, and so every product with it
    zero = one - one
    count = np.empty(1, x_src.dtype)
    count[0] = heads
    upstream = np.empty(channels, x_src.dtype)
    for i in range(len(pointer) - 1):
        first, stop = pointer[i], pointer[i + 1]
        total[:] = 0
        grad_dst[i] = 0
        for c in range(channels):
            upstream[c] = grad_out[i, c] / count[0]
        for e in range(first, stop):
            j = src[e]
            if e + AHEAD < stop:
                _prefetch_row(x_src, src[e + AHEAD])
            for h in range(heads):
                value = alpha[e, h] * _dot(upstream, x_src[j, h], zero)
                weighted[e - first, h] = value
                total[h] += value
        for e in range(first, stop):
            j = src[e]
            if e + AHEAD < stop:
                _prefetch_row(x_src, src[e + AHEAD])
                _prefetch_row(grad_src, src[e + AHEAD])
            elif e + AHEAD < len(src):  # the next destination's first edges
                _prefetch_row(x_src, src[e + AHEAD])
            for h in range(heads):
                weight = alpha[e, h]
                grad_logit = weighted[e - first, h] - weight * total[h]
                for c in range(channels):  # one loop: fewer passes and alias checks, the same bits
                    value = x_src[j, h, c] + x_dst[i, h, c]
                    scale = slope if value <= zero else one  # x 1 changes no bit
                    grad_z = grad_logit * att[h, c] * scale
                    grad_att[h, c] += grad_logit * (value * scale)
                    grad_dst[i, h, c] += grad_z
                    grad_src[j, h, c] += grad_z + upstream[c] * weight
