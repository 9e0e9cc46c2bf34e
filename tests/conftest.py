"""Shared fixtures: the real raw data folder (skipped when absent) and tiny generated graphs."""

from __future__ import annotations

from pathlib import Path

import pytest

from motive.data import synth

RAW_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    if not (RAW_DIR / "lincs-l1000").is_dir():
        pytest.skip(f"real data not found at {RAW_DIR} (expected ../shared/data/raw beside the project)")
    return RAW_DIR


@pytest.fixture(scope="session")
def tiny_graphs():
    """All four graph types of a synthetic dataset at scale 0.01 (36 sources, 115 targets)."""
    return synth.generate(synth.SynthConfig(scale=0.01, seed=3))


@pytest.fixture(scope="module")
def planted_dataset(tmp_path_factory) -> Path:
    """A small dataset folder whose features carry the latent that drives its edges (signal 1.0)."""
    from motive.data import layout

    root = tmp_path_factory.mktemp("data")
    layout.write_dataset(
        synth.generate(synth.SynthConfig(scale=0.05, seed=4, signal=1.0, source_dim=32, target_dim=24)), root
    )
    return root
