"""Every code example of the README and the documentation site runs, and the site builds.

Each page's ``bash`` and ``python`` blocks run in order in a scratch folder of their own, with this
environment's ``motive`` and ``python`` first on the PATH and ``../shared`` beside it (the real
data, when this checkout has it). A ``python`` or ``yaml`` block whose first line is ``# NAME.py``
(``# NAME.yaml``) is a file the page's commands use: it is written, not run; any other ``yaml``
block must parse. A block right after ``<!-- not run: REASON -->`` is not run, and says why. The
README's first command, the scientist's job on the real data, has a test of its own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
BLOCK = re.compile(r"(?:<!-- not run: (?P<skip>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S)
FILE = re.compile(r"# ([\w.-]+\.(?:py|yaml))\b")


def blocks(page: Path) -> list[tuple[str, str, str | None]]:
    """(language, code, reason it is not run or None) of every fenced block of ``page``."""
    return [(m["lang"], m["code"], m["skip"]) for m in BLOCK.finditer(page.read_text())]


def environment() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "MPLBACKEND": "Agg"}


def run(command: list[str], work: Path, what: str, timeout: int = 600) -> None:
    done = subprocess.run(command, cwd=work, env=environment(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{what} failed ({done.returncode}):\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"


def examples(page: Path) -> list[tuple[str, str, str | None]]:
    """The blocks this test runs: the README's first (its two commands) has tests of its own."""
    found = blocks(page)
    return found[1:] if page == ROOT / "README.md" else found


def runnable(page: Path) -> bool:
    return any(lang in ("bash", "python") and skip is None for lang, _, skip in examples(page))


@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_of_a_page_runs(page: Path, tmp_path: Path):
    work = tmp_path / "work"
    work.mkdir()
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED)
    for number, (lang, code, skip) in enumerate(examples(page), start=1):
        what = f"{page.relative_to(ROOT)} block {number} ({lang})"
        named = FILE.match(code.splitlines()[0]) if code.strip() else None
        if skip is not None:
            assert skip.strip(), f"{what}: a block that is not run must say why"
        elif "../shared" in code and not SHARED.is_dir():
            continue  # the real data is not beside this checkout
        elif named and lang in ("python", "yaml"):
            (work / named[1]).write_text(code)
        elif lang == "yaml":
            yaml.safe_load(code)
        elif lang == "bash":
            run(["bash", "-euo", "pipefail", "-c", code], work, what)
        elif lang == "python":
            run([sys.executable, "-c", code], work, what)


def test_a_block_not_run_is_rare_and_gives_its_reason():
    skipped = [(page.name, skip) for page in PAGES for _, _, skip in blocks(page) if skip is not None]
    assert all(reason.strip() for _, reason in skipped)
    assert len(skipped) <= 3, skipped


def test_the_readme_is_short_and_leads_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    first = blocks(ROOT / "README.md")[0][1].splitlines()
    assert first[0].startswith("./setup.sh && ") and "--final" in first[0] and "--smiles" in first[0]
    assert first[1] == "./setup.sh && .venv/bin/python -m pytest -q"
    assert ".venv/bin/python -m pytest -q" in (ROOT / ".ci" / "run").read_text()  # CI runs the README's tests


@pytest.mark.skipif(not (SHARED / "data" / "raw").is_dir(), reason="the real data (../shared/data/raw) is absent")
def test_the_readmes_first_command_ranks_targets_for_drugs_given_as_smiles(tmp_path: Path):
    """The scientist's job from a clone: build l1000, fit the final model, rank targets of drugs
    given as SMILES (set-up skipped: this environment is the one it makes)."""
    command = blocks(ROOT / "README.md")[0][1].splitlines()[0].removeprefix("./setup.sh && ")
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / ".venv").symlink_to(Path(sys.executable).parent.parent)
    (tmp_path / "shared").symlink_to(SHARED)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=clone,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    import pandas as pd

    ranked = pd.read_parquet(clone / "runs" / "drugs.parquet")
    assert ranked["name"].nunique() >= 3 and ranked["expected_precision"].notna().any()
    assert "expected_precision" in done.stdout


def test_the_documentation_site_builds_without_a_warning(tmp_path: Path):
    if shutil.which("mkdocs", path=str(Path(sys.executable).parent)) is None:
        pytest.fail('mkdocs is not installed: pip install -e ".[test]" (setup.sh does)')
    run(["mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")], ROOT, "mkdocs build --strict")
    assert (tmp_path / "site" / "api" / "index.html").read_text().count("motive.train") >= 1
