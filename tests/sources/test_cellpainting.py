"""The real Cell Painting plate: median profile per compound."""

import pandas as pd
import pytest

from motive.data.sources import cellpainting


def test_cell_painting_plate_median_per_compound(raw_dir):
    profiles = cellpainting.compound_profiles(raw_dir)
    assert profiles.shape == (57, 454)
    assert (profiles.index.str.len() == 14).all() and profiles.index.is_unique
    wells = pd.read_csv(raw_dir / cellpainting.FILE)
    key = profiles.index[0]
    column = profiles.columns[0]
    expected = wells.loc[wells["Metadata_InChIKey14"] == key, column].median()
    assert profiles.loc[key, column] == pytest.approx(expected, rel=1e-5)
