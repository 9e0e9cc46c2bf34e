"""The dataset registry (OGB ``master.csv`` style): name, version, files pinned to origin
commits with sha256, license and citation per source, headline split and metric.

``fetch`` copies each file from a local mirror or downloads it from its origin, verifies
sha256 before the file becomes visible, and caches it; a mismatch is an error, never a warning.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from motive.errors import MotiveError
from motive.outputs import cache_file

log = logging.getLogger(__name__)
MANIFESTS = Path(__file__).parent / "manifests"

# Per raw-source folder: license and citation, carried into every dataset built from it.
SOURCE_TERMS = {
    "lincs-l1000": (
        "CC BY 4.0 (LINCS), CC0 (dhimmel/lincs processing)",
        "Subramanian A. et al., A Next Generation Connectivity Map, Cell 171 (2017); Himmelstein D. dhimmel/lincs",
    ),
    "drugbank": (
        "CC BY-NC 4.0 (non-commercial)",
        "Wishart D.S. et al., DrugBank 5.0, Nucleic Acids Res. 46 (2018); dhimmel/drugbank",
    ),
    "hetionet": (
        "CC0 + per-source terms (see its license column)",
        "Himmelstein D.S. et al., Systematic integration of biomedical knowledge prioritizes drugs for repurposing, "
        "eLife 6 (2017)",
    ),
    "repurposing-hub": (
        "BSD-3 (compound-annotator); Drug Repurposing Hub terms",
        "Corsello S.M. et al., The Drug Repurposing Hub, Nat. Med. 23 (2017)",
    ),
    "dgidb": (
        "mixed; DrugBank-derived rows CC BY-NC",
        "Wagner A.H. et al., DGIdb 2.0, Nucleic Acids Res. 44 (2016); Freshour S.L. et al., DGIdb 4.0 (2021)",
    ),
    "jump-target": (
        "MIT",
        "Chandrasekaran S.N. et al., Three million images and morphological profiles of cells treated with matched "
        "chemical and genetic perturbations, Nat. Methods (2024)",
    ),
    "ppi": (
        "research use",
        "Menche J. et al., Uncovering disease-disease relationships through the incomplete interactome, Science 347 "
        "(2015); Rolland T. et al., A proteome-scale map of the human interactome network, Cell 159 (2014)",
    ),
}


@dataclass(frozen=True)
class Dataset:
    name: str
    version: str
    description: str
    default_split: str = "cold_source"
    headline_metric: str = "hits@500"
    gene_type: str = "orf"
    files: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False)  # path, url, member, bytes, sha256

    def terms(self) -> list[dict[str, str]]:
        folders = sorted({path.split("/")[0] for path in self.files.get("path", [])})
        return [
            {"source": folder, "license": SOURCE_TERMS[folder][0], "citation": SOURCE_TERMS[folder][1]}
            for folder in folders
        ]


def _manifest(name: str) -> pd.DataFrame:
    return pd.read_csv(MANIFESTS / f"{name}.tsv", sep="\t", keep_default_na=False)


DATASETS = {
    "l1000": Dataset(
        name="l1000",
        version="1.0",
        description="Real MOTIVE-style graph: LINCS L1000 compound and ORF profiles, drug-target edges "
        "from Hetionet, DrugBank, Drug Repurposing Hub, DGIdb and JUMP-Target, PPI gene-gene edges, "
        "RDKit Morgan similarity compound-compound edges",
        files=_manifest("l1000"),
    ),
    "synthetic": Dataset(
        name="synthetic",
        version="1.0",
        description="Generated MOTIVE-scale graph (Table 2 counts at scale 1) with a tunable feature signal",
    ),
}


def get_dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise MotiveError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return DATASETS[name]


def default_cache_dir() -> Path:
    """$MOTIVE_CACHE, else $XDG_CACHE_HOME/motive, else ~/.cache/motive."""
    if os.environ.get("MOTIVE_CACHE"):
        return Path(os.environ["MOTIVE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "motive"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, member: str, destination: Path) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            payload = response.read()
    except OSError as error:
        raise MotiveError(f"{url}: download failed ({error}); pass `mirror` (a local copy)") from error
    if member:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            payload = archive.read(member)
    destination.write_bytes(payload)


def fetch(name: str, mirror: str | Path | None = None, cache_dir: str | Path | None = None) -> Path:
    """Make every raw file of dataset ``name`` present and verified; return its raw directory."""
    dataset = get_dataset(name)
    if dataset.files.empty:
        raise MotiveError(f"dataset {name!r} has no files to fetch; generate it with `motive data synth`")
    cache = Path(cache_dir or default_cache_dir())
    raw_dir = cache / name / "raw"
    for folder in (cache, cache / name, raw_dir):  # before any download: one line, nothing fetched
        if folder.exists() and not folder.is_dir():
            raise MotiveError(
                f"{folder}: is a file, where the cache needs a folder; pass another `cache` (or move the file)"
            )
    for row in dataset.files.itertuples(index=False):
        final = raw_dir / row.path
        for parent in [p for p in final.parents if p != raw_dir and raw_dir in p.parents]:
            if parent.exists() and not parent.is_dir():
                raise MotiveError(f"{parent}: is a file, where the cache needs a folder; move it away")
        if final.is_dir():
            raise MotiveError(f"{final}: is a folder, where the cache keeps the file {row.path}; move it away")
        if final.exists() and sha256_of(final) == row.sha256:
            continue
        with cache_file(final) as tmp:
            if mirror is not None:
                source = Path(mirror) / row.path
                if not source.is_file():
                    raise MotiveError(f"{source}: file not found in mirror; expected the layout of {name}'s manifest")
                shutil.copyfile(source, tmp)
                origin = str(source)
            else:
                log.info("downloading %s", row.url)
                _download(row.url, row.member, tmp)
                origin = row.url
            actual = sha256_of(tmp)
            if actual != row.sha256:
                raise MotiveError(
                    f"{origin}: checksum mismatch (sha256 {actual[:12]}..., expected {row.sha256[:12]}...); the copy "
                    "is corrupt or a different version, fetch it again from origin"
                )
        log.info("fetched %s", row.path)
    return raw_dir
