"""motive: drug-target interaction prediction as link prediction on a compound-gene graph.

The pipeline, one module per stage: ``sources`` (raw public tables) -> ``build`` (the graph
rules of MOTIVE) -> ``graph`` / ``layout`` (the data model and the official file layout) ->
splits, negatives, models, training, evaluation.
"""

from motive.errors import MotiveError
from motive.graph import GRAPH_TYPES, Graph, NodeTable

__all__ = ["GRAPH_TYPES", "Graph", "MotiveError", "NodeTable"]
__version__ = "0.1.0"
