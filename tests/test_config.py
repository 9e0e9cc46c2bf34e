"""Settings declared once (``motive/training/config.py``): every ``TrainConfig`` field is an option of
``motive train`` with its help, choices and check, the grid and search commands take theirs from the
same fields, and a field added to the class becomes an option with nothing else to edit."""

import argparse
import re
from dataclasses import dataclass, fields

import pytest

from motive import checks
from motive.cli import main, parser
from motive.errors import MotiveError
from motive.training.config import MODEL_SETTINGS, SETTINGS, TUNE_FIXED, TrainConfig, add_options, option_name, setting


def has_option(text: str, flag: str) -> bool:
    return re.search(re.escape(flag) + r"(?![\w-])", text) is not None


def help_of(*command: str) -> str:
    top = parser()
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command[0]].format_help()
    raise AssertionError("no subcommands")


def test_train_help_shows_every_field_with_its_help():
    text = help_of("train")
    for spec in fields(TrainConfig):
        flag = spec.metadata["option"].get("flags", [option_name(spec.name)])[0]
        assert has_option(text, flag), spec.name
        assert spec.metadata["help"].split()[0] in text, spec.name
    assert "gin_cp, gin_embs" in text  # model names come from the registry


def test_experiment_and_tune_take_their_options_from_the_fields():
    experiment, tune = help_of("experiment"), help_of("tune")
    for name in MODEL_SETTINGS:
        assert has_option(experiment, option_name(name)) == (name != "model"), name
    for name in TUNE_FIXED:
        assert has_option(tune, option_name(name)), name
    for name in ("lr", "weight_decay", "model_kwargs"):  # what a trial sets is not a fixed setting
        assert not has_option(tune, option_name(name))


@dataclass
class WithWarmup(TrainConfig):
    warmup: int = setting(0, "epochs of linear learning-rate warm-up", check=checks.nonnegative_int)


def test_a_new_field_is_a_new_option_with_its_help_default_and_check():
    command = argparse.ArgumentParser()
    add_options(command, [spec.name for spec in fields(WithWarmup)], required=("data",), config_class=WithWarmup)
    assert "epochs of linear learning-rate warm-up (default: 0)" in " ".join(command.format_help().split())
    args = command.parse_args(["--data", ".", "--warmup", "3"])
    assert WithWarmup(**vars(args)).warmup == 3
    with pytest.raises(MotiveError, match="warmup: must be an integer >= 0, got -1"):
        WithWarmup(data=".", warmup=-1)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("lr", "-1", "must be a positive number, got '-1'"),
        ("fanouts", "0", "must be an integer >= 1 or -1 (all), got '0'"),
        ("monitor", "loss", "invalid choice: 'loss'"),
    ],
)
def test_the_command_line_and_the_api_refuse_a_bad_value_alike(tmp_path, capsys, option, value, message):
    code = main(["train", "--data", str(tmp_path), f"--{option}", value, "--out", str(tmp_path / "run")])
    assert code == 2 and message in capsys.readouterr().err
    with pytest.raises(MotiveError, match=option):
        TrainConfig(data=str(tmp_path), **{option: [int(value)] if option == "fanouts" else value})


def test_settings_parse_into_the_config(tmp_path):
    top = parser()
    args = top.parse_args(["train", "--data", str(tmp_path), "--fanouts", "5", "-1", "--ranking-eval", "--out", "x"])
    config = TrainConfig(**{name: getattr(args, name) for name in SETTINGS})
    assert config.fanouts == (5, -1) and config.ranking_eval is True and config.data == str(tmp_path.resolve())
