"""Hand-computed checks of each MOTIVE build rule, and an inputs/ tree built end to end."""

import numpy as np
import pandas as pd
import pytest

from motive.data import build, layout
from motive.errors import MotiveError

K = {name: name * 14 for name in "ABCDEFGH"}  # InChIKey14-shaped keys: 'AAAAAAAAAAAAAA', ...


def test_compound_profiles_median_inchikey14_and_first_wins():
    wells = pd.DataFrame(
        {
            "Metadata_JCP2022": ["J2", "J2", "J2", "J1", "J3", "J4", "J5"],
            "Metadata_Well": ["a", "b", "c", "d", "e", "f", "g"],
            "f1": [1.0, 5.0, 3.0, 10.0, 7.0, 9.0, 4.0],
        }
    )
    meta = pd.DataFrame(
        {
            "Metadata_JCP2022": ["J1", "J2", "J3", "J4", "J5"],
            # J1 and J2 share the connectivity block (different stereo layer): smallest JCP id wins.
            # J4 repeats J3's full key: the first meta row per full key maps, J4's wells are dropped.
            # J5 has no InChIKey: dropped.
            "Metadata_InChIKey": [K["A"] + "-X-N", K["A"] + "-Y-N", K["B"] + "-Z-N", K["B"] + "-Z-N", None],
        }
    )
    profiles = build.aggregate_profiles(wells, meta, "compound")
    assert profiles.index.tolist() == [K["A"], K["B"]]
    assert profiles.index.name == "Metadata_InChIKey"
    assert profiles["f1"].tolist() == [10.0, 7.0]
    assert profiles.columns.tolist() == ["f1"] and profiles.dtypes.iloc[0] == np.float32


def test_gene_profiles_use_first_reagent_median():
    wells = pd.DataFrame(
        {
            "Metadata_JCP2022": ["R1", "R1", "R1", "R2", "R3"],
            "f1": [1.0, 2.0, 9.0, 100.0, 4.0],
            "f2": [0.0, 0.0, 1.0, 5.0, 2.0],
        }
    )
    meta = pd.DataFrame({"Metadata_JCP2022": ["R1", "R2", "R3"], "Metadata_Symbol": ["TP53", "TP53", "EGFR"]})
    profiles = build.aggregate_profiles(wells, meta, "gene")
    assert profiles.index.tolist() == ["EGFR", "TP53"]
    assert profiles.loc["TP53"].tolist() == [2.0, 0.0]


@pytest.mark.parametrize(
    "wells, message",
    [
        (pd.DataFrame({"Metadata_JCP2022": ["R1"], "f1": [np.inf]}), "non-finite feature value inf in column 'f1'"),
        (pd.DataFrame({"Metadata_JCP2022": ["R1"], "f1": ["x"]}), "feature column 'f1' has dtype"),
        (pd.DataFrame({"Metadata_JCP2022": ["R1"]}), "no feature columns"),
        (pd.DataFrame({"Metadata_Plate": ["R1"], "f1": [1.0]}), "missing column\\(s\\) 'Metadata_JCP2022'"),
        (pd.DataFrame({"Metadata_JCP2022": ["R9"], "f1": [1.0]}), "table is empty"),
    ],
)
def test_bad_profiles_are_named(wells, message):
    meta = pd.DataFrame({"Metadata_JCP2022": ["R1"], "Metadata_Symbol": ["TP53"]})
    with pytest.raises(MotiveError, match=message):
        build.aggregate_profiles(wells, meta, "gene")


def test_compound_gene_cleaning_drops_missing_and_merges_duplicates():
    annotations = pd.DataFrame(
        {
            "inchikey": [K["A"] + "-X-N", K["A"] + "-Y-N", K["A"] + "-X-N", None, K["B"] + "-X-N"],
            "target": ["TP53", "TP53", "EGFR", "TP53", None],
            "database": ["hetionet", "drugbank", "dgidb", "hetionet", "dgidb"],
            "rel_type": ["binds", "target", None, "binds", "x"],
        }
    )
    cleaned = build.clean_compound_gene(annotations)
    assert cleaned[["source", "target"]].values.tolist() == [[K["A"], "TP53"], [K["A"], "EGFR"]]
    assert cleaned["database"].tolist() == ["drugbank|hetionet", "dgidb"]
    assert cleaned["rel_type"].tolist() == ["binds|target", ""]


def test_same_type_cleaning_self_loops_reversed_duplicates_and_featured_only():
    featured = pd.Index(["G1", "G2", "G3"])
    annotations = pd.DataFrame(
        {
            "target_a": ["G1", "G2", "G1", "G2", "G1", None],
            "target_b": ["G2", "G1", "G1", "G3", "G9", "G2"],
            "database": ["a", "b", "a", "a", "a", "a"],
        }
    )
    cleaned = build.clean_same_type(annotations, "target_a", "target_b", featured)
    assert cleaned[["target_a", "target_b"]].values.tolist() == [["G1", "G2"], ["G2", "G3"]]
    assert cleaned["database"].tolist() == ["a|b", "a"]


def test_degree_cap_follows_reference_rule():
    # Star: hub H with 5 leaves, plus a chain x-y-z. Degrees: H=5, leaves=1, x=1, y=2, z=1.
    edges = pd.DataFrame({"a": ["H"] * 5 + ["x", "y"], "b": ["l1", "l2", "l3", "l4", "l5", "y", "z"]})
    # 99th percentile of [5,1,1,1,1,1,1,2,1] is 4.76: H is dropped (not strictly below), the rest kept.
    capped = build.cap_degree(edges, "a", "b", max_degree=3)
    assert capped.values.tolist() == [["x", "y"], ["y", "z"]]
    # Already under the cap: unchanged (the reference crashes here; we return the input).
    assert build.cap_degree(edges, "a", "b", max_degree=5).equals(edges)


def test_degree_cap_iterates_until_max_is_met():
    # Two hubs of degree 6 and 4 (hub2's leaves are distinct): after dropping hub1 the max is 4 > 3, drop again.
    edges = pd.DataFrame({"a": ["h1"] * 6 + ["h2"] * 4 + ["p"], "b": [f"l{i}" for i in range(10)] + ["q"]})
    capped = build.cap_degree(edges, "a", "b", max_degree=3)
    assert capped.values.tolist() == [["p", "q"]]


def write_inputs(root, compound_gene, compound_compound, gene_gene):
    (root / "compound").mkdir(parents=True)
    (root / "orf").mkdir()
    (root / "annotations").mkdir()
    pd.DataFrame(
        {
            "Metadata_JCP2022": ["C1", "C1", "C2", "C3", "C4"],
            "Metadata_Plate": "P",
            "f1": [1.0, 3.0, 5.0, 7.0, 9.0],
            "f2": [0.0, 2.0, 1.0, 1.0, 1.0],
        }
    ).to_parquet(root / "compound" / "features.parquet")
    pd.DataFrame(
        {
            "Metadata_JCP2022": ["C1", "C2", "C3", "C4"],
            "Metadata_InChIKey": [K["C"] + "-A-N", K["A"] + "-A-N", K["B"] + "-A-N", K["D"] + "-A-N"],
            "Metadata_InChI": "InChI=1S/x",
        }
    ).to_csv(root / "compound" / "meta.csv.gz", index=False)
    pd.DataFrame({"Metadata_JCP2022": ["O1", "O2", "O3", "O4"], "x": [1.0, 2.0, 3.0, 4.0]}).to_parquet(
        root / "orf" / "features.parquet"
    )
    pd.DataFrame(
        {
            "Metadata_JCP2022": ["O1", "O2", "O3", "O4"],
            "Metadata_Symbol": ["G1", "G2", "G3", "G4"],
            "Metadata_NCBI_Gene_ID": [1, 2, 3, 4],
        }
    ).to_csv(root / "orf" / "meta.csv.gz", index=False)
    compound_gene.to_parquet(root / "annotations" / "compound_gene.parquet")
    compound_compound.to_parquet(root / "annotations" / "compound_compound.parquet")
    gene_gene.to_parquet(root / "annotations" / "gene_gene.parquet")


def test_inputs_tree_builds_exactly_as_the_rules_say(tmp_path):
    compound_gene = pd.DataFrame(
        {
            "source": ["DB1", "DB1", "DB2", "DB9", "DB3"],
            "target": ["G2", "G2", "G1", "G1", "GX"],
            "rel_type": "target",
            "source_id": "drugbank",
            "database": ["hetionet", "drugbank", "dgidb", "dgidb", "dgidb"],
            # DB9's compound has no profile and GX no gene profile: those pairs vanish.
            "inchikey": [K["C"] + "-A-N", K["C"] + "-B-N", K["A"] + "-A-N", K["H"] + "-A-N", K["B"] + "-A-N"],
        }
    )
    compound_compound = pd.DataFrame(
        {
            "source_a": ["x", "y", "z", "w"],
            "source_b": ["y", "x", "z", "v"],
            "rel_type": "similar",
            "source_id": "drugbank",
            "database": "hetionet",
            "inchikey_a": [K["D"] + "-A-N", K["A"] + "-A-N", K["B"] + "-A-N", K["D"] + "-A-N"],
            "inchikey_b": [K["A"] + "-A-N", K["D"] + "-A-N", K["B"] + "-A-N", None],
        }
    )
    gene_gene = pd.DataFrame(
        {"target_a": ["G3", "G4", "G1"], "target_b": ["G4", "G3", "G9"], "rel_type": "ppi", "database": "menche"}
    )
    write_inputs(tmp_path / "inputs", compound_gene, compound_compound, gene_gene)
    graphs = build.build_from_inputs(tmp_path / "inputs")

    st = graphs["st_expanded"]
    # Sources sorted by key: A (C2), C (C1), D (C4); B (C3) has no ST or SS edge. Targets G1..G4.
    assert st.sources.keys.tolist() == [K["A"], K["C"], K["D"]]
    assert st.sources.x.tolist() == [[5.0, 1.0], [2.0, 1.0], [9.0, 1.0]]  # C1 = median of its two wells
    assert st.targets.keys.tolist() == ["G1", "G2", "G3", "G4"]
    assert st.edges["st"][["source", "target"]].values.tolist() == [[0, 0], [1, 1]]
    assert st.edges["st"]["database"].tolist() == ["dgidb", "drugbank|hetionet"]
    assert st.edges["ss"][["source_a", "source_b"]].values.tolist() == [[0, 2]]  # A-D once, B-B self-loop gone
    assert st.edges["tt"][["target_a", "target_b"]].values.tolist() == [[2, 3]]

    bipartite = graphs["bipartite"]
    assert bipartite.sources.keys.tolist() == [K["A"], K["C"]]
    assert bipartite.targets.keys.tolist() == ["G1", "G2"]
    assert graphs["s_expanded"].targets.keys.tolist() == ["G1", "G2"]
    assert graphs["t_expanded"].sources.keys.tolist() == [K["A"], K["C"]]

    layout.write_dataset(graphs, tmp_path / "out")
    for graph_type, graph in layout.read_dataset(tmp_path / "out").items():
        assert graph.equals(graphs[graph_type])


def test_inputs_tree_without_joinable_edges_is_an_error(tmp_path):
    compound_gene = pd.DataFrame(
        {"source": ["x"], "target": ["G7"], "rel_type": "t", "source_id": "d", "database": "d", "inchikey": [K["A"]]}
    )
    empty_cc = pd.DataFrame({"source_a": [], "source_b": [], "inchikey_a": [], "inchikey_b": []}, dtype=str)
    empty_gg = pd.DataFrame({"target_a": [], "target_b": []}, dtype=str)
    write_inputs(tmp_path / "inputs", compound_gene, empty_cc, empty_gg)
    with pytest.raises(MotiveError, match="no compound-gene annotation joins two featured nodes"):
        build.build_from_inputs(tmp_path / "inputs")
