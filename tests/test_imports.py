"""The package's import graph has no cycle: no module imports one that imports it back, counting
the imports inside functions (which hide a cycle from Python, not from a reader); and no function
is longer than a screen."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import motive

PACKAGE = Path(motive.__file__).parent


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``path`` imports anywhere in its body, functions included, except in
    ``if TYPE_CHECKING:`` blocks (``from motive import checks`` is an import of ``motive.checks``)."""
    tree = ast.parse(path.read_text())
    typing_only = set()  # `if TYPE_CHECKING:` blocks name types for annotations and never run
    for block in ast.walk(tree):
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING":
            typing_only |= {id(node) for statement in block.body for node in ast.walk(statement)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in modules:
            for alias in node.names:
                found.add(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (or a module importing itself)."""
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_package_has_no_import_cycle():
    modules = module_names()
    graph = {name: imports_of(path, modules) - {name} for name, path in modules.items()}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_planted_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


MAX_FUNCTION_LINES = 80  # a longer function is a list of named steps waiting to be written


def test_no_function_is_longer_than_a_screen():
    long = []
    for name, path in module_names().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {length} lines")
    assert long == []


MAX_FILE_LINES = 400  # a longer module does more than one job


def test_no_module_is_longer_than_400_lines():
    long = []
    for name, path in module_names().items():
        length = len(path.read_text().splitlines())
        if length > MAX_FILE_LINES:
            long.append(f"{name}: {length} lines")
    assert long == []


def test_deterministic_sets_torchs_flag_and_restores_its_defaults():
    """On: deterministic kernels, new tensors not filled with NaN; off: torch's defaults again."""
    code = (
        "import torch; from motive.experiments.parallel import deterministic; deterministic(True); "
        "on = torch.are_deterministic_algorithms_enabled(); "
        "fill = torch.utils.deterministic.fill_uninitialized_memory; "
        "deterministic(False); print(on, fill, torch.are_deterministic_algorithms_enabled(), "
        "torch.utils.deterministic.fill_uninitialized_memory)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False", "False", "True"]


def test_numba_is_loaded_only_by_the_models_that_compile_with_it():
    """numba and LLVM (~0.5 s) load when GATv2 runs on a CPU or a shortest path is asked for,
    not when the command line or the model registry is imported."""
    code = "import sys, motive.cli, motive.models, motive.training.loop; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"]


def test_freed_memory_is_reused_under_dasks_malloc_setting():
    """Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536: then every 2.4 MB buffer is a
    fresh mmap, faulted in page by page; after reuse_freed_memory() glibc serves it from its heap.
    (In a Dask worker at MOTIVE scale: gin_cp 1.74 -> 0.85 s per epoch, kernel time 21 -> 4 s.)"""
    code = (
        "import resource, numpy as np; from motive.experiments.parallel import reuse_freed_memory; {call}; "
        "[np.ones(600_000, np.float32).sum() for _ in range(5)]; "
        "start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt; "
        "[np.ones(600_000, np.float32).sum() for _ in range(200)]; "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)"
    )
    env = os.environ | {"MALLOC_TRIM_THRESHOLD_": "65536"}
    faults = {
        call: int(
            subprocess.run(
                [sys.executable, "-c", code.format(call=call)], capture_output=True, text=True, check=True, env=env
            ).stdout
        )
        for call in ("None", "reuse_freed_memory()")
    }
    assert faults["None"] > 200 * 500  # the setting does what Dask meant it to (586 pages per buffer)
    assert faults["reuse_freed_memory()"] < 200
