"""Reaching a Dask cluster (the one place that connects to a scheduler, used by experiments and
tune alike, so neither imports the other for it) and setting torch's threads for a run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from motive.errors import MotiveError


def cluster_client(address: str):
    """A Dask client for ``tcp://HOST:PORT`` or a scheduler file (JSON) of a running cluster."""
    from distributed import Client

    try:
        if address.endswith(".json"):
            if not Path(address).is_file():
                raise MotiveError(
                    f"{address}: scheduler file not found; start one with `dask scheduler --scheduler-file {address}`"
                )
            return Client(scheduler_file=address, timeout="20s")
        return Client(address, timeout="20s")
    except MotiveError:
        raise
    except Exception as error:  # unreachable scheduler, bad address
        raise MotiveError(
            f"cluster {address}: cannot connect ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no answer'}); is `dask scheduler` running there?"
        ) from None


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Torch's intra-op thread count set to ``count`` inside the block, restored after it (a run's
    numbers depend on it: ``TrainConfig.threads``)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def deterministic(mode: bool) -> None:
    """``torch.use_deterministic_algorithms(mode)``. The mode also fills every new tensor with NaN
    (a tenth of a GNN epoch here); no motive computation reads memory it did not write, so the bits
    are the same without it, and it is left off while the mode is on."""
    import torch
    import torch.utils.deterministic

    torch.utils.deterministic.fill_uninitialized_memory = not mode
    torch.use_deterministic_algorithms(mode)


_MALLOC_SET = False


def reuse_freed_memory() -> None:
    """Let glibc's malloc serve buffers up to 32 MiB from its heap and keep up to 256 MiB freed
    there (once per process; elsewhere than glibc nothing). Dask's nanny starts workers with
    ``MALLOC_TRIM_THRESHOLD_=65536``, which switches off glibc's adaptive mmap threshold: every
    buffer over 128 KiB is then a fresh mmap, faulted in page by page and unmapped when freed
    (at MOTIVE scale half of a worker's time went to page faults; ``benchmarks/PERFORMANCE.md``).
    Where tensors live never changes a number."""
    global _MALLOC_SET
    if _MALLOC_SET:
        return
    _MALLOC_SET = True
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 256 << 20)
