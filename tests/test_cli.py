import pytest

from motive import layout
from motive.cli import main


def test_synth_then_stats(tmp_path, capsys):
    assert main(["-q", "data", "synth", "--out", str(tmp_path / "syn"), "--scale", "0.01", "--seed", "2"]) == 0
    graphs = layout.read_dataset(tmp_path / "syn")
    assert (tmp_path / "syn" / "dataset.json").exists()
    capsys.readouterr()
    assert main(["-q", "data", "stats", str(tmp_path / "syn"), "--out", str(tmp_path / "stats.md")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("| graph_type |") and f"| st_expanded | {len(graphs['st_expanded'].sources)} |" in printed
    assert (tmp_path / "stats.md").read_text().strip() == printed.strip()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["data", "fetch", "nope"], "unknown dataset 'nope'"),
        (["data", "fetch", "synthetic"], "generated, not fetched"),
        (["data", "stats", "/does/not/exist"], "no data/{graph_type}/orf/ folders"),
        (["data", "synth", "--out", "OUT", "--signal", "2"], "signal must be within"),
        (["data", "build-inputs", "/does/not/exist", "--out", "OUT"], "features.parquet: file not found"),
    ],
)
def test_errors_are_one_line_with_exit_2_and_no_output(tmp_path, capsys, argv, message):
    argv = [arg.replace("OUT", str(tmp_path / "out")) for arg in argv]
    assert main(["-q"] + argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("motive: error: ") and message in err and "\n" not in err
    assert not (tmp_path / "out").exists()
