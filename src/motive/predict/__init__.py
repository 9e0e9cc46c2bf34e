"""Prediction for new entities: rank every gene for a new compound's profile (and every compound
for a new gene), up to the full compound x gene matrix.

    motive predict --run RUN --compounds new.parquet [--top-k 50] [--exclude-known] --out ranked.parquet
    motive predict --run RUN --all [--compounds all.parquet] [--top-k 50] --out FOLDER

Loads a run (``load``), adds the new nodes to its test-stage graph (``nodes``: isolated, or joined
by user-given edges or, for compounds with a ``smiles`` column, by the Morgan-fingerprint rule the
graph was built with) and scores them in blocks (``ranking``; every pair, ``full``). Scores are
ranking scores, not probabilities. Every pair already in the graph is flagged with its split
subset (train / message / valid / test / unused) or as ``annotated`` (``known``); a query far from
the training nodes is flagged (``domain``); each candidate comes with its evidence (``evidence``).
Never touches splits or training code beyond loading the run.
"""

from motive.predict.domain import applicability, domain_threshold, domain_view
from motive.predict.evidence import evidence, evidence_of_ids
from motive.predict.full import predict_all
from motive.predict.known import KnownPairs
from motive.predict.load import Predictor, load_predictor, read_edges, read_profiles
from motive.predict.nodes import extend_stage
from motive.predict.ranking import predict, rank
from motive.predict.results import Predictions

__all__ = [
    "KnownPairs",
    "Predictions",
    "Predictor",
    "applicability",
    "domain_threshold",
    "domain_view",
    "evidence",
    "evidence_of_ids",
    "extend_stage",
    "load_predictor",
    "predict",
    "predict_all",
    "rank",
    "read_edges",
    "read_profiles",
]
