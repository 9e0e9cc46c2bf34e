import shutil

import pytest

from motive.data.datasets import registry
from motive.errors import MotiveError


def test_every_manifest_row_is_pinned_and_licensed():
    dataset = registry.get_dataset("l1000")
    files = dataset.files
    assert files["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert files["url"].str.match(r"^https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/").all()
    assert {term["source"] for term in dataset.terms()} == {path.split("/")[0] for path in files["path"]}
    assert all(term["license"] and term["citation"] for term in dataset.terms())


def test_unknown_dataset():
    with pytest.raises(MotiveError, match="unknown dataset 'nope'; known datasets: l1000, synthetic"):
        registry.get_dataset("nope")


def test_fetch_from_mirror_verifies_and_caches(raw_dir, tmp_path):
    raw = registry.fetch("l1000", mirror=raw_dir, cache_dir=tmp_path)
    for row in registry.get_dataset("l1000").files.itertuples():
        assert registry.sha256_of(raw / row.path) == row.sha256
    stamp = (raw / "drugbank/drugbank.tsv").stat().st_mtime_ns
    registry.fetch("l1000", mirror=tmp_path / "no-mirror-needed", cache_dir=tmp_path)  # cache hit: mirror untouched
    assert (raw / "drugbank/drugbank.tsv").stat().st_mtime_ns == stamp


def test_checksum_mismatch_is_an_error_and_leaves_nothing(raw_dir, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(raw_dir, mirror)
    with open(mirror / "dgidb/interactions.tsv", "ab") as handle:
        handle.write(b"tampered\n")
    cache = tmp_path / "cache"
    with pytest.raises(
        MotiveError,
        match=r"dgidb/interactions.tsv: checksum mismatch \(sha256 [0-9a-f]{12}\.\.\., expected 3b4a0d798151",
    ):
        registry.fetch("l1000", mirror=mirror, cache_dir=cache)
    assert not (cache / "l1000/raw/dgidb/interactions.tsv").exists()
    assert not [p for p in (cache / "l1000/raw/dgidb").iterdir()]


def test_missing_mirror_file(tmp_path):
    with pytest.raises(MotiveError, match="file not found in mirror"):
        registry.fetch("l1000", mirror=tmp_path, cache_dir=tmp_path / "cache")


def test_cache_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("MOTIVE_CACHE", str(tmp_path))
    assert registry.default_cache_dir() == tmp_path
    monkeypatch.delenv("MOTIVE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert registry.default_cache_dir() == tmp_path / "xdg" / "motive"
