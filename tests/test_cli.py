import pytest

from motive.cli import main
from motive.data import layout


def test_synth_then_stats(tmp_path, capsys):
    assert main(["-q", "data", "synth", "--out", str(tmp_path / "syn"), "--scale", "0.01", "--seed", "2"]) == 0
    graphs = layout.read_dataset(tmp_path / "syn")
    assert (tmp_path / "syn" / "dataset.json").exists()
    capsys.readouterr()
    assert main(["-q", "data", "stats", str(tmp_path / "syn"), "--out", str(tmp_path / "stats.md")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("| graph_type |") and f"| st_expanded | {len(graphs['st_expanded'].sources)} |" in printed
    assert (tmp_path / "stats.md").read_text() == "<!-- motive:stats -->\n" + printed


@pytest.mark.parametrize(
    "argv, message",
    [
        (["data", "fetch", "nope"], "unknown dataset 'nope'"),
        (["data", "fetch", "synthetic"], "generated, not fetched"),
        (["data", "stats", "/does/not/exist"], "argument dataset: /does/not/exist: folder not found"),
        (["data", "stats", "TMP"], "no data/{graph_type}/orf/ folders"),
        (["data", "synth", "--out", "OUT", "--signal", "2"], "argument --signal: must be within [0, 1], got '2'"),
        (
            ["data", "build-inputs", "/does/not/exist", "--out", "OUT"],
            "argument inputs: /does/not/exist: folder not found",
        ),
        (["data", "build-inputs", "TMP", "--out", "OUT"], "features.parquet: file not found"),
    ],
)
def test_errors_are_one_line_with_exit_2_and_no_output(tmp_path, capsys, argv, message):
    argv = [arg.replace("OUT", str(tmp_path / "out")).replace("TMP", str(tmp_path)) for arg in argv]
    assert main(["-q"] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("motive: error: ") and message in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_split_export_and_audit(tmp_path, capsys):
    import pandas as pd

    data = tmp_path / "syn"
    assert main(["-q", "data", "synth", "--out", str(data), "--scale", "0.05", "--seed", "1"]) == 0
    official = tmp_path / "official"
    for split in ("random", "cold_source", "cold_target", "cold_both"):
        assert (
            main(
                [
                    "-q",
                    "split",
                    "make",
                    str(data),
                    "--graph",
                    "st_expanded",
                    "--split",
                    split,
                    "--seed",
                    "3",
                    "--export-official",
                    str(official),
                ]
            )
            == 0
        )
    ours = data / "data/st_expanded/orf/splits/cold_source/seed_3"
    assert {"split.json", "audit.md", "negatives_test.parquet", "s_t_labels.parquet"} <= {
        p.name for p in ours.iterdir()
    }
    graph_folder = official / "data/st_expanded/orf"
    assert {"random", "source", "target", "zero_shot", "source.parquet"} <= {p.name for p in graph_folder.iterdir()}
    capsys.readouterr()
    assert main(["-q", "split", "audit", str(graph_folder)]) == 0
    assert capsys.readouterr().out.count("| visibility | pass |") == 4
    assert main(["-q", "split", "audit", str(data / "data/st_expanded/orf")]) == 0

    # Plant a leak: one edge of a held-out test compound becomes a training edge.
    path = graph_folder / "source" / "s_t_labels.parquet"
    table = pd.read_parquet(path)
    table.loc[table.index[table["subset"] == "test"][0], "subset"] = "train"
    table.to_parquet(path)
    capsys.readouterr()
    assert main(["-q", "split", "audit", str(graph_folder)]) == 2
    captured = capsys.readouterr()
    assert "| node stages | FAIL |" in captured.out
    assert (
        captured.err.strip()
        .splitlines()[-1]
        .startswith("motive: error: 1 of 4 splits leak; first: source: node stages:")
    )


def test_data_commands_do_not_import_torch():
    """Data commands stay light: importing torch costs seconds and hundreds of MB."""
    import subprocess
    import sys

    code = "import sys; from motive import cli; cli.parser(); print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


def test_the_same_split_again_is_reused_unchanged(tmp_path, capsys):
    from tests.test_outputs import snapshot

    data = tmp_path / "syn"
    assert main(["-q", "data", "synth", "--out", str(data), "--scale", "0.05", "--seed", "1"]) == 0
    argv = ["split", "make", str(data), "--graph", "st_expanded", "--split", "cold_source", "--seed", "2"]
    assert main(["-q", *argv]) == 0
    before = snapshot(data)
    capsys.readouterr()
    assert main(argv) == 0
    assert "exists and is identical; reused" in capsys.readouterr().out
    assert snapshot(data) == before
    assert main(["-q", *argv[:-1], "3"]) == 0  # another seed is another folder
