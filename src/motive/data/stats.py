"""Graph statistics in the shape of the paper's Table 2. Reads a Graph; writes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from motive.data.graph import Graph


def degrees(graph: Graph) -> tuple[np.ndarray, np.ndarray]:
    """Per-node degree over every edge type present (a same-type edge counts at both ends)."""
    source_degree = np.zeros(len(graph.sources), np.int64)
    target_degree = np.zeros(len(graph.targets), np.int64)
    s, t = graph.endpoints("st")
    np.add.at(source_degree, s, 1)
    np.add.at(target_degree, t, 1)
    for kind, degree in (("ss", source_degree), ("tt", target_degree)):
        if kind in graph.edges:
            for ends in graph.endpoints(kind):
                np.add.at(degree, ends, 1)
    return source_degree, target_degree


def table2(graphs: dict[str, Graph]) -> pd.DataFrame:
    rows = []
    for graph_type, graph in graphs.items():
        source_degree, target_degree = degrees(graph)
        rows.append(
            {
                "graph_type": graph_type,
                "sources": len(graph.sources),
                "targets": len(graph.targets),
                "source_features": graph.sources.x.shape[1],
                "target_features": graph.targets.x.shape[1],
                "st_edges": len(graph.edges["st"]),
                "ss_edges": len(graph.edges.get("ss", ())),
                "tt_edges": len(graph.edges.get("tt", ())),
                "source_mean_degree": round(float(source_degree.mean()), 1),
                "target_mean_degree": round(float(target_degree.mean()), 1),
                "source_median_degree": float(np.median(source_degree)),
                "target_median_degree": float(np.median(target_degree)),
                "max_degree": int(max(source_degree.max(), target_degree.max())),
            }
        )
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    lines = [header, rule]
    for row in table.itertuples(index=False):
        lines.append(
            "| "
            + " | ".join(f"{value:,}" if isinstance(value, (int, np.integer)) else str(value) for value in row)
            + " |"
        )
    return "\n".join(lines)
