"""Compounds given by structure: a table with an identifier (``Metadata_InChIKey``, ``name`` or
``id``) and a ``smiles`` column, or SMILES on the command line. Each SMILES is parsed with RDKit;
a salt or mixture keeps its largest fragment (one log line per compound says so); the compound is
keyed by its InChIKey14, as the graph's compounds are, so a known compound is recognised as the
graph's node. A SMILES that does not parse is one error line naming it, before anything is
written."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from motive.errors import MotiveError

log = logging.getLogger(__name__)
KEY = "Metadata_InChIKey"
NAME_COLUMNS = ("name", "id")  # a compound's own identifier, when it has no InChIKey column


def from_smiles(smiles: Sequence[str]) -> pd.DataFrame:
    """A compound table of SMILES given on the command line: each named by its SMILES."""
    return pd.DataFrame({"name": list(smiles), "smiles": list(smiles)})


def by_structure(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` names its compounds by structure: a ``smiles`` column and a ``name`` or
    ``id`` column, but no ``Metadata_InChIKey`` (as column or index)."""
    has_key = frame.index.name == KEY or KEY in frame.columns
    return "smiles" in frame.columns and not has_key and any(c in frame.columns for c in NAME_COLUMNS)


def keyed_by_structure(frame: pd.DataFrame, where: str) -> tuple[pd.DataFrame, pd.Series]:
    """``frame`` indexed by each compound's InChIKey14 (from its standardised SMILES), the
    ``smiles`` column standardised, the name column dropped; and each key's given name."""
    name_column = next(c for c in NAME_COLUMNS if c in frame.columns)
    names = frame[name_column].astype("string").str.strip()
    blank = names.isna() | (names == "")
    if blank.any():
        row = int(blank.to_numpy().nonzero()[0][0]) + 1
        raise MotiveError(f"{where}: row {row} has an empty {name_column}; every compound needs an identifier")
    keys, standard = [], []
    for name, text in zip(names, frame["smiles"], strict=True):
        key, smiles = standardise(text, name, where)
        keys.append(key)
        standard.append(smiles)
    index = pd.Index(keys, name=KEY)
    twice = index[index.duplicated()]
    if len(twice):
        same = names[index == twice[0]].tolist()
        raise MotiveError(
            f"{where}: {same[0]!r} and {same[1]!r} are the same compound (InChIKey14 {twice[0]}); keep one of them"
        )
    keyed = frame.drop(columns=[name_column]).assign(smiles=standard).set_axis(index, axis=0)
    return keyed, pd.Series(names.to_numpy(), index=index, name="name")


def standardise(text, name: str, where: str) -> tuple[str, str]:
    """(InChIKey14, canonical SMILES) of one compound: its largest fragment where it has several."""
    from rdkit import Chem, RDLogger
    from rdkit.Chem.MolStandardize import rdMolStandardize

    given = text if isinstance(text, str) else ""
    RDLogger.DisableLog("rdApp.*")
    try:
        molecule = Chem.MolFromSmiles(given.strip()) if given.strip() else None
        if molecule is None:
            raise MotiveError(
                f"{where}: the smiles of {name!r} does not parse: {given[:60]!r}; fix it or drop that compound"
            )
        if len(Chem.GetMolFrags(molecule)) > 1:
            molecule = rdMolStandardize.LargestFragmentChooser().choose(molecule)
            log.info("%s: %s has several fragments (a salt or mixture); kept the largest", where, name)
        key = Chem.MolToInchiKey(molecule)
    finally:
        RDLogger.EnableLog("rdApp.*")
    if not key:
        raise MotiveError(f"{where}: no InChIKey for {name!r} ({given[:60]!r}); check its structure")
    return key[:14], Chem.MolToSmiles(molecule)
