"""The output rule: nothing motive did not make is ever deleted or replaced; --overwrite replaces
only motive's own output of the same kind; a crash leaves the old or the new output; umask
permissions."""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from motive import marks, outputs
from motive.cli import main
from motive.errors import MotiveError

MOTIVE = [sys.executable, "-m", "motive.cli"]


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its kind, size, mtime and content digest."""
    state = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        content = path.read_bytes() if path.is_file() else b""
        state[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, hash(content))
    return state


def write_output(final: Path, text: str, overwrite: bool = False, kind: str = "thing") -> None:
    with outputs.output_dir(final, kind, overwrite) as tmp:
        (tmp / "result.txt").write_text(text)
        (tmp / "sub").mkdir()
        (tmp / "sub" / "more.txt").write_text(text)


def test_new_output_is_marked_and_listed(tmp_path):
    write_output(tmp_path / "out", "one")
    marker = json.loads((tmp_path / "out" / outputs.MARKER).read_text())
    assert marker["kind"] == "thing" and marker["files"] == ["result.txt", "sub/more.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp left behind


def test_overwrite_replaces_own_output_only_when_asked(tmp_path):
    write_output(tmp_path / "out", "one")
    with pytest.raises(MotiveError, match="pass `overwrite`"):
        write_output(tmp_path / "out", "two")
    assert (tmp_path / "out" / "result.txt").read_text() == "one"
    write_output(tmp_path / "out", "two", overwrite=True)
    assert (tmp_path / "out" / "result.txt").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_other_kind_is_never_replaced(tmp_path):
    write_output(tmp_path / "out", "one", kind="dataset")
    with pytest.raises(MotiveError, match="holds a motive dataset, not a run"):
        write_output(tmp_path / "out", "two", overwrite=True, kind="run")


@pytest.mark.parametrize("where", ["top.txt", "sub/notes.txt"])
def test_user_file_inside_own_output_blocks_overwrite(tmp_path, where):
    write_output(tmp_path / "out", "one")
    (tmp_path / "out" / where).write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(MotiveError, match=f"holds files motive did not write \\({where}\\)"):
        write_output(tmp_path / "out", "two", overwrite=True)
    assert snapshot(tmp_path) == before


def test_folder_not_made_by_motive_is_never_replaced(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.txt").write_text("years of work")
    before = snapshot(tmp_path)
    for overwrite in (False, True):
        with pytest.raises(MotiveError, match="not made by motive"):
            write_output(tmp_path / "out", "x", overwrite=overwrite)
    assert snapshot(tmp_path) == before


def test_file_is_never_replaced_by_a_folder(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(MotiveError, match="never replaces a file with a folder"):
        write_output(tmp_path / "out", "x", overwrite=True)
    assert (tmp_path / "out").read_text() == "a file"


def test_empty_folder_is_filled(tmp_path):
    (tmp_path / "out").mkdir()
    write_output(tmp_path / "out", "one")
    assert (tmp_path / "out" / "result.txt").read_text() == "one"


def test_failure_inside_the_block_keeps_the_old_output(tmp_path):
    write_output(tmp_path / "out", "one")
    with pytest.raises(RuntimeError), outputs.output_dir(tmp_path / "out", "thing", overwrite=True) as tmp:
        (tmp / "result.txt").write_text("half")
        raise RuntimeError("crash")
    assert (tmp_path / "out" / "result.txt").read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replacement_without_atomic_exchange(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    write_output(tmp_path / "out", "one")
    write_output(tmp_path / "out", "two", overwrite=True)
    assert (tmp_path / "out" / "result.txt").read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_exchange_swaps(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_text("a")
    (tmp_path / "b").mkdir()
    if not outputs._exchange(tmp_path / "a", tmp_path / "b"):
        pytest.skip("this file system has no renameat2(RENAME_EXCHANGE); the fallback is tested above")
    assert (tmp_path / "b" / "x").read_text() == "a" and not any((tmp_path / "a").iterdir())


def test_single_file_outputs(tmp_path):
    final = tmp_path / "stats.md"
    final.write_text("my notes\n")
    with (
        pytest.raises(MotiveError, match="not a motive stats"),
        outputs.output_file(final, "stats", overwrite=True) as tmp,
    ):
        tmp.write_text("x")
    assert final.read_text() == "my notes\n"
    final.unlink()
    for overwrite, text in ((False, "one"), (True, "two")):
        with outputs.output_file(final, "stats", overwrite) as tmp:
            tmp.write_text(marks.markdown_header("stats") + text)
    assert final.read_text().endswith("two")
    with pytest.raises(MotiveError, match="pass `overwrite`"), outputs.output_file(final, "stats") as tmp:
        tmp.write_text("three")


def test_parquet_outputs_are_recognised(tmp_path):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(pd.DataFrame({"a": [1]})).replace_schema_metadata(
        marks.parquet_metadata("predictions")
    )
    pq.write_table(table, tmp_path / "mine.parquet")
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "theirs.parquet")
    outputs.check_file_target(tmp_path / "mine.parquet", "predictions", overwrite=True)
    with pytest.raises(MotiveError, match="not a motive predictions"):
        outputs.check_file_target(tmp_path / "theirs.parquet", "predictions", overwrite=True)


def test_commands_write_group_and_other_readable_outputs(tmp_path):
    old = os.umask(0o022)
    try:
        assert main(["-q", "data", "synth", "--out", str(tmp_path / "data"), "--scale", "0.05"]) == 0
        assert main(["-q", "data", "stats", str(tmp_path / "data"), "--out", str(tmp_path / "stats.md")]) == 0
        assert (
            main(
                [
                    "-q",
                    "train",
                    "--data",
                    str(tmp_path / "data"),
                    "--model",
                    "cosine",
                    "--hits-k",
                    "5",
                    "--out",
                    str(tmp_path / "run"),
                ]
            )
            == 0
        )
    finally:
        os.umask(old)
    written = [
        tmp_path / "stats.md",
        *(tmp_path / "data").rglob("*"),
        *(tmp_path / "run").rglob("*"),
        tmp_path / "data",
        tmp_path / "run",
    ]
    assert len(written) > 20
    for path in written:
        mode = path.stat().st_mode
        assert mode & 0o044 == 0o044, f"{path} is mode {oct(mode)}"
        if path.is_dir():
            assert mode & 0o055 == 0o055, f"{path} is mode {oct(mode)}"


def test_data_loss_cases_of_the_old_main(tmp_path, capsys):
    """Each of these deleted the user's folder (or hid a file) with exit 0 before the output rule."""
    user = tmp_path / "mine"
    user.mkdir()
    (user / "thesis.txt").write_text("years of work")
    (tmp_path / "file.txt").write_text("a file")
    assert main(["-q", "data", "synth", "--out", str(tmp_path / "data"), "--scale", "0.05"]) == 0
    before = snapshot(tmp_path)
    for argv in (
        ["data", "synth", "--out", str(user), "--scale", "0.05"],
        ["data", "synth", "--out", str(tmp_path / "file.txt"), "--scale", "0.05"],
        ["data", "build", "l1000", "--out", str(user), "--mirror", str(tmp_path)],
        ["train", "--data", str(tmp_path / "data"), "--model", "cosine", "--hits-k", "5", "--out", str(user)],
        [
            "train",
            "--data",
            str(tmp_path / "data"),
            "--model",
            "cosine",
            "--hits-k",
            "5",
            "--out",
            str(user),
            "--overwrite",
        ],
        [
            "train",
            "--data",
            str(tmp_path / "data"),
            "--model",
            "cosine",
            "--hits-k",
            "5",
            "--out",
            str(tmp_path / "file.txt"),
        ],
    ):
        assert main(["-q", *argv]) == 2, argv
        assert capsys.readouterr().err.count("\n") == 1
    assert snapshot(tmp_path) == before


def _wait_for_temp(process: subprocess.Popen, parent: Path, name: str, limit: float = 60.0) -> None:
    started = time.monotonic()
    while not list(parent.glob(f".{name}{outputs.TEMP_TAG}*")):
        assert process.poll() is None, "the command ended before it started writing"
        assert time.monotonic() - started < limit
        time.sleep(0.005)


def _default_sigint() -> None:
    signal.signal(
        signal.SIGINT, signal.SIG_DFL
    )  # a test run started in the background (`cmd &`) ignores SIGINT, and children inherit that


def _synth(out: Path, *extra: str) -> subprocess.Popen:
    command = [*MOTIVE, "-q", "data", "synth", "--scale", "1", "--out", str(out), *extra]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint
    )


def test_sigint_mid_write_leaves_nothing(tmp_path):
    for attempt in range(3):
        parent = tmp_path / str(attempt)
        parent.mkdir()
        process = _synth(parent / "data")
        _wait_for_temp(process, parent, "data")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        if (
            process.returncode == 0
        ):  # on a loaded machine the write can finish before the signal lands: a complete output
            assert (parent / "data" / outputs.MARKER).is_file()
            continue
        assert process.returncode == 130 and err.strip() == "motive: interrupted; outputs not finished were not written"
        assert list(parent.iterdir()) == []
        return
    pytest.fail("the signal never arrived during the write in 3 attempts")


def test_sigkill_mid_write_never_leaves_a_partial_output(tmp_path):
    # A fresh write killed: no output at the path; the next command runs as if nothing happened.
    process = _synth(tmp_path / "data", "--seed", "1")
    _wait_for_temp(process, tmp_path, "data")
    process.kill()
    process.wait(timeout=60)
    assert not (tmp_path / "data").exists()
    subprocess.run(
        [*MOTIVE, "-q", "data", "synth", "--scale", "0.05", "--out", str(tmp_path / "data")],
        check=True,
        capture_output=True,
    )
    marker = json.loads((tmp_path / "data" / outputs.MARKER).read_text())
    # A replacement killed: the old output is intact and complete.
    before = snapshot(tmp_path / "data")
    process = _synth(tmp_path / "data", "--overwrite")
    _wait_for_temp(process, tmp_path, "data")
    process.kill()
    process.wait(timeout=60)
    assert snapshot(tmp_path / "data") == before
    assert json.loads((tmp_path / "data" / outputs.MARKER).read_text()) == marker
    # Leftover temp folders of killed runs are recognised as motive's (their token), never as user files.
    leftovers = [p for p in tmp_path.iterdir() if outputs.TEMP_TAG in p.name]
    assert leftovers and all(outputs.is_temp_leftover(p) for p in leftovers)


def test_read_only_location_as_another_user():
    if os.geteuid() != 0:
        pytest.skip("needs root to run the check as user nobody (root ignores permission bits)")
    root = Path(tempfile.mkdtemp(prefix="motive-ro-"))
    try:
        root.chmod(0o755)  # readable, not writable, for nobody
        probe = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *MOTIVE, "--help"],
            capture_output=True,
            text=True,
        )
        if probe.returncode != 0:
            pytest.skip(f"cannot run motive as user nobody here ({(probe.stderr.strip().splitlines() or ['?'])[-1]})")
        result = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                *MOTIVE,
                "-q",
                "data",
                "synth",
                "--scale",
                "0.05",
                "--out",
                str(root / "data"),
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2
        assert (
            result.stderr
            == f"motive: error: {root / 'data'}: cannot write there ({root} is not writable for you); choose another "
            "path\n"
        )
        assert list(root.iterdir()) == []
    finally:
        root.rmdir()


def test_work_folders_are_reused_by_key_and_only_motives_are_removed(tmp_path):
    work = outputs.work_dir(tmp_path / "out", "abc")
    (work / "block-0.parquet").write_text("done")
    assert outputs.work_dir(tmp_path / "out", "abc") == work and (work / "block-0.parquet").exists()
    with pytest.raises(MotiveError, match="not motive's work folder for this job"):
        (tmp_path / ".out.motive-work-xyz").mkdir()
        outputs.work_dir(tmp_path / "out", "xyz")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(MotiveError, match="not a motive work folder; left in place"):
        outputs.remove_work_dir(tmp_path / "mine", ["notes.txt"])
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    # a temp write killed inside the work folder (SIGKILL) leaves ".NAME.motive-tmp-XXXX/NAME": motive's too
    leftover = outputs._make_temp(work / "block-1.parquet")  # what a killed cache_file leaves
    (leftover / "block-1.parquet").write_text("half")
    lookalike = work / f".thesis{outputs.TEMP_TAG}draft"  # named like a temp, but the user's
    lookalike.mkdir()
    (lookalike / "chapter.txt").write_text("mine")
    (work / "notes.txt").write_text("a user's file in the work folder")
    assert outputs.remove_work_dir(work, ["block-0.parquet", "block-1.parquet"]) is False
    assert sorted(p.name for p in work.iterdir()) == [
        lookalike.name,
        outputs.MARKER,
        "notes.txt",
    ]  # ours gone, theirs kept
    assert (work / "notes.txt").read_text() == "a user's file in the work folder"
    assert (lookalike / "chapter.txt").read_text() == "mine"
    (work / "notes.txt").unlink()
    shutil.rmtree(lookalike)
    assert outputs.remove_work_dir(work, ["block-0.parquet"]) is True
    assert not work.exists()


def test_failed_writes_delete_only_their_own_temp(tmp_path):
    """Every deletion motive makes: the temp of a folder output, of a file output and of a file
    inside motive's own folder; the user's files beside them stay."""
    (tmp_path / "thesis.txt").write_text("mine")
    (tmp_path / ".hidden-notes").mkdir()
    (tmp_path / ".hidden-notes" / "a.txt").write_text("mine too")
    before = snapshot(tmp_path)
    writers = [
        lambda: outputs.output_dir(tmp_path / "out", "dataset"),
        lambda: outputs.output_file(tmp_path / "stats.md", "stats"),
        lambda: outputs.own_file(tmp_path / "results.parquet"),
        lambda: outputs.cache_file(tmp_path / "cached.bin"),
    ]
    for writer in writers:
        with pytest.raises(RuntimeError), writer() as tmp:
            target = tmp / "part.txt" if tmp.is_dir() else tmp
            target.write_text("half-written")
            raise RuntimeError
        assert snapshot(tmp_path) == before


def test_failed_fallback_swap_puts_the_old_output_back(tmp_path, monkeypatch):
    write_output(tmp_path / "out", "one")
    monkeypatch.setattr(outputs, "_exchange", lambda a, b: False)
    real_rename = Path.rename

    def failing_rename(self, target):
        if outputs.TEMP_TAG in self.name and "old-" not in self.name and Path(target).name == "out":
            raise OSError("disk full")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", failing_rename)
    with pytest.raises(OSError, match="disk full"):
        write_output(tmp_path / "out", "two", overwrite=True)
    assert (tmp_path / "out" / "result.txt").read_text() == "one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_overwrite_never_takes_what_the_output_did_not_write(tmp_path, capsys):
    """--overwrite replaces only what the markers list: a run saved inside a dataset, a user's
    symlink or a user's file named like motive's temp folders block it, with one line naming it."""
    from motive.cli import main

    data = tmp_path / "data"
    assert main(["-q", "data", "synth", "--out", str(data), "--scale", "0.05", "--seed", "1"]) == 0
    train = ["-q", "train", "--data", str(data), "--model", "popularity", "--hits-k", "5"]
    assert main([*train, "--out", str(data / "my_runs" / "r")]) == 0  # also stores the dataset's split (derived: fine)

    def refused(argv, name):
        before = snapshot(tmp_path)
        assert main(argv) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and name in error, error
        assert snapshot(tmp_path) == before

    synth = ["-q", "data", "synth", "--out", str(data), "--scale", "0.05", "--seed", "2", "--overwrite"]
    refused(synth, "my_runs/r (a motive run)")
    run = tmp_path / "run"
    assert main([*train, "--out", str(run)]) == 0
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep.txt").write_text("mine")
    (run / "linked").symlink_to(tmp_path / "elsewhere")
    refused([*train, "--out", str(run), "--overwrite"], "linked (a symlink)")
    (run / "linked").unlink()
    (run / f"notes{outputs.TEMP_TAG}v2.txt").write_text("my notes, named like a temp file")
    refused([*train, "--out", str(run), "--overwrite"], f"notes{outputs.TEMP_TAG}v2.txt")
    (run / f"notes{outputs.TEMP_TAG}v2.txt").unlink()
    outputs._make_temp(run / "metrics.json")  # a real leftover of motive's own: no obstacle
    assert main([*train, "--out", str(run), "--overwrite"]) == 0
    shutil.rmtree(data / "my_runs")
    assert main(synth) == 0  # its stored splits go with it
    assert (tmp_path / "elsewhere" / "keep.txt").read_text() == "mine"


def test_an_interrupt_while_the_temp_folder_is_made_leaves_nothing(tmp_path, monkeypatch):
    # SIGINT right after mkdtemp (what test_sigint_mid_write_leaves_nothing hits on a busy machine)
    original = Path.write_text

    def interrupted(self, *args, **kwargs):
        if self.name == outputs.TEMP_TOKEN:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", interrupted)
    for writer in (
        lambda: outputs.output_dir(tmp_path / "out", "dataset"),
        lambda: outputs.own_file(tmp_path / "results.parquet"),
    ):
        with pytest.raises(KeyboardInterrupt), writer():
            pass
    assert list(tmp_path.iterdir()) == []


def test_a_users_file_named_like_the_temp_token_is_never_taken(tmp_path):
    # Only a folder named as motive's temp *and* holding the token counts as motive's; a user's
    # folder whose one file happens to carry the token's name is the user's.
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / outputs.TEMP_TOKEN).write_text("mine")
    with pytest.raises(MotiveError, match="was not made by motive"):
        write_output(tmp_path / "out", "one")
    assert (tmp_path / "out" / outputs.TEMP_TOKEN).read_text() == "mine"
    assert not outputs.is_temp_leftover(tmp_path / "out")


def test_an_output_into_motives_own_empty_temp_folder_removes_only_its_token(tmp_path):
    """The one deletion of the in-place branch: a writer's empty temp folder (motive's name and
    token, nothing else) becomes the output; its token goes while the output moves in and comes
    back after, and a user's file beside it is untouched."""
    (tmp_path / "mine.txt").write_text("user data")
    temp = outputs._make_temp(tmp_path / "work")  # what a writer leaves behind: name + token only
    assert outputs.is_temp_leftover(temp)
    write_output(temp, "one")
    assert (temp / "result.txt").read_text() == "one" and (temp / "sub" / "more.txt").read_text() == "one"
    assert (temp / outputs.TEMP_TOKEN).is_file() and (tmp_path / "mine.txt").read_text() == "user data"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["mine.txt", temp.name])  # no temp left over
