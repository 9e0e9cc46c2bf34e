import json

import numpy as np
import pandas as pd

from motive.data import layout
from motive.data.datasets import l1000, registry
from motive.data.stats import table2


def test_l1000_builds_into_the_official_layout(raw_dir, tmp_path):
    description = l1000.build(registry.fetch("l1000", mirror=raw_dir, cache_dir=tmp_path / "cache"), tmp_path / "l1000")
    graphs = layout.read_dataset(tmp_path / "l1000")
    assert set(graphs) == {"bipartite", "s_expanded", "t_expanded", "st_expanded"}
    st = graphs["st_expanded"]
    assert st.sources.x.shape[1] == 978 and st.targets.x.shape[1] == 978
    assert st.sources.keys.str.fullmatch(r"[A-Z]{14}").all()
    assert len(st.edges["st"]) > 500 and len(st.edges["ss"]) > 500 and len(st.edges["tt"]) > 1000
    # Every ST edge names a featured compound and gene, with provenance of real databases.
    databases = set("|".join(st.edges["st"]["database"]).split("|"))
    assert databases <= {"hetionet", "drugbank", "drugrep", "dgidb", "jump_target"} and len(databases) >= 3
    # Table 2 invariants across graph types.
    stats = table2(graphs).set_index("graph_type")
    assert stats["st_edges"].nunique() == 1
    assert stats.loc["bipartite", "sources"] == stats.loc["t_expanded", "sources"] < stats.loc["st_expanded", "sources"]
    for kind in ("st", "ss", "tt"):
        ends = np.concatenate(st.endpoints(kind)) if kind != "st" else st.endpoints(kind)[1]
        assert np.bincount(ends).max() <= 150
    saved = json.loads((tmp_path / "l1000" / "dataset.json").read_text())
    assert saved["graph_hashes"]["st_expanded"] == st.content_hash() == description["graph_hashes"]["st_expanded"]
    assert {term["source"] for term in saved["terms"]} >= {"lincs-l1000", "drugbank", "ppi"}
    # The inputs/ tree it wrote is the official schema.
    meta = pd.read_csv(tmp_path / "l1000" / "inputs" / "compound" / "meta.csv.gz")
    assert list(meta.columns) == ["Metadata_JCP2022", "Metadata_InChIKey", "Metadata_InChI"]
