"""Compound-compound edges from chemical structure: RDKit Morgan fingerprints.

Fingerprint: Morgan, radius 2 (ECFP4-like), 2,048 bits, from the compound's InChI (or SMILES);
an edge joins two compounds whose Dice similarity is >= 0.5, the rule Hetionet used for its
Compound-resembles-Compound edges. Compounds whose structure does not parse are skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator

from motive.tables import require_columns

RADIUS = 2
N_BITS = 2048
DICE_THRESHOLD = 0.5


def _molecule(structure: str):
    if structure.startswith("InChI="):
        return Chem.MolFromInchi(structure)
    return Chem.MolFromSmiles(structure)


def compound_compound(compounds: pd.DataFrame, threshold: float = DICE_THRESHOLD) -> pd.DataFrame:
    """``compounds``: columns ``id``, ``inchikey``, ``structure`` (InChI or SMILES)."""
    require_columns(compounds, ["id", "inchikey", "structure"], "compounds for similarity")
    compounds = compounds.dropna(subset=["inchikey", "structure"]).drop_duplicates("inchikey").reset_index(drop=True)
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=RADIUS, fpSize=N_BITS)
    RDLogger.DisableLog("rdApp.*")
    try:
        molecules = [_molecule(str(structure)) for structure in compounds["structure"]]
    finally:
        RDLogger.EnableLog("rdApp.*")
    parsed = np.array([molecule is not None for molecule in molecules])
    compounds = compounds[parsed].reset_index(drop=True)
    fingerprints = [generator.GetFingerprint(molecule) for molecule in molecules if molecule is not None]
    pairs_a, pairs_b, scores = [], [], []
    for i in range(len(fingerprints) - 1):
        similarity = np.asarray(DataStructs.BulkDiceSimilarity(fingerprints[i], fingerprints[i + 1 :]))
        hits = np.flatnonzero(similarity >= threshold)
        pairs_a.append(np.full(len(hits), i))
        pairs_b.append(hits + i + 1)
        scores.append(similarity[hits])
    a = np.concatenate(pairs_a) if pairs_a else np.array([], int)
    b = np.concatenate(pairs_b) if pairs_b else np.array([], int)
    return pd.DataFrame(
        {
            "source_a": compounds["id"].to_numpy()[a],
            "source_b": compounds["id"].to_numpy()[b],
            "rel_type": "similar_morgan2_dice>=" + str(threshold),
            "source_id": "inchikey",
            "database": "rdkit_morgan",
            "inchikey_a": compounds["inchikey"].to_numpy()[a],
            "inchikey_b": compounds["inchikey"].to_numpy()[b],
            "dice": np.concatenate(scores) if scores else np.array([], float),
        }
    )
