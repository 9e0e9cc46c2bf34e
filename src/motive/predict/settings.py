"""The settings of ``motive.predict`` and ``motive predict``, each declared once: its default, help,
choices and check; the function's signature and the command's options are generated from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from motive import checks
from motive.names import DEVICES
from motive.training.config import TrainConfig, check_settings, same_setting, setting

TABLE = {"type": checks.existing_path}  # the command line takes a path; Python also a DataFrame


@dataclass
class PredictSettings:
    compounds: Any = setting(
        None,
        "compounds: Metadata_InChIKey + the run's profile features [+ smiles], or name (or id) + smiles "
        "[+ features], keyed then by InChIKey14 (a path, or a DataFrame in Python)",
        option=TABLE,
    )
    genes: Any = setting(None, "gene profiles: Metadata_Symbol + the run's features", option=TABLE)
    top_k: int | None = setting(None, "keep the K best candidates per query (default: all)", check=checks.positive_int)
    exclude_known: bool = setting(False, "drop pairs the dataset already knows", check=checks.boolean)
    edges: Any = setting(None, "known edges of the new nodes: query, node[, node_side]", option=TABLE)
    allow_existing: bool = setting(
        False, "queries may be nodes of the graph (scored as those nodes)", check=checks.boolean
    )
    device: str = setting("auto", "auto: cuda when a GPU is visible", choices=DEVICES)
    data: Any = setting(
        None, "the run's dataset moved elsewhere (same graph hash)", option={"type": checks.existing_dir}
    )
    plugins: list = same_setting(TrainConfig, "plugins")  # files to load, never those a run folder names

    def __post_init__(self) -> None:
        check_settings(self)


PREDICT_SETTINGS = [name for name in PredictSettings.__dataclass_fields__]
