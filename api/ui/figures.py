"""Plotly figure specs (plain dicts) for the dashboard's charts.

The browser only calls ``Plotly.newPlot(el, data, layout)``. Traces a chart's
point count is checked against carry ``meta: "primary"``: their points are the
rows of the API route named in the chart's ``data-api`` attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from costcurve.analytics.money import to_float

Trace = dict[str, Any]
Figure = dict[str, Any]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")


def layout(y_title: str, *, log: bool = True, height: int = 360) -> dict[str, Any]:
    return {
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 24, "b": 48},
        "xaxis": {"type": "date"},
        "yaxis": {
            "type": "log" if log else "linear",
            "title": {"text": y_title},
            "tickprefix": "$",
            "tickformat": ".3~g",
        },
        "legend": {"orientation": "h", "y": -0.2, "traceorder": "normal"},
        "hovermode": "closest",
        "font": {"family": "system-ui, sans-serif", "size": 12},
    }


def figure(traces: list[Trace], y_title: str, *, log: bool = True, height: int = 360) -> Figure:
    return {"data": traces, "layout": layout(y_title, log=log, height=height)}


def _floats(rows: Iterable[dict[str, Any]], key: str) -> list[float | None]:
    return [to_float(r.get(key)) for r in rows]


def line(
    name: str,
    xs: Sequence[Any],
    ys: Sequence[float | None],
    *,
    color: str,
    primary: bool = False,
    **extra: Any,
) -> Trace:
    trace: Trace = {
        "type": "scatter",
        "mode": "lines+markers" if primary else "lines",
        "name": name,
        "x": list(xs),
        "y": list(ys),
        "line": {"color": color, "width": 2 if primary else 1},
        "marker": {"size": 5},
    }
    if primary:
        trace["meta"] = "primary"
    return trace | extra


def curve_band(points: list[dict[str, Any]]) -> list[Trace]:
    """Cheapest (primary, labelled with its model on hover), p25 and median with the band."""
    xs = [p["as_of"] for p in points]
    labels = [f"{p['cheapest_model']} from {p['cheapest_provider']}" for p in points]
    cheapest = line(
        "cheapest",
        xs,
        _floats(points, "min"),
        color=PALETTE[0],
        primary=True,
        text=labels,
        hovertemplate="%{x|%Y-%m-%d}: $%{y:.4g}/M<br>%{text}<extra>cheapest</extra>",
    )
    p25 = line("p25", xs, _floats(points, "p25"), color=PALETTE[0], fill="tonexty", opacity=0.6) | {
        "fillcolor": "rgba(31,119,180,0.25)",
        "line": {"width": 0.5, "color": PALETTE[0]},
    }
    median = line("median", xs, _floats(points, "median"), color=PALETTE[1], fill="tonexty") | {
        "fillcolor": "rgba(31,119,180,0.10)"
    }
    return [cheapest, p25, median]


def series_by(
    rows: list[dict[str, Any]],
    group: str,
    *,
    x: str,
    y: str,
    primary: bool,
    dash: str | None = None,
    label: str = "{}",
) -> list[Trace]:
    """One line per value of ``group`` (in order of first appearance)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row[group]), []).append(row)
    traces = []
    for i, (name, members) in enumerate(groups.items()):
        trace = line(
            label.format(name),
            [m[x] for m in members],
            _floats(members, y),
            color=PALETTE[i % len(PALETTE)],
            primary=primary,
            legendgroup=name,
        )
        if dash:
            trace["line"] = trace["line"] | {"dash": dash}
        traces.append(trace)
    return traces


def fit_band(
    xs: Sequence[Any], points: Sequence[float | None], band: dict[str, list[float]], name: str
) -> list[Trace]:
    """Fitted points (primary markers), the fitted line and its confidence band."""
    lo = line("90% band", xs, band["lo"], color=PALETTE[2]) | {
        "line": {"width": 0},
        "showlegend": False,
    }
    hi = line("90% confidence band", xs, band["hi"], color=PALETTE[2], fill="tonexty") | {
        "line": {"width": 0},
        "fillcolor": "rgba(44,160,44,0.2)",
    }
    fitted = line("fitted trend", xs, band["fitted"], color=PALETTE[2])
    dots = {
        "type": "scatter",
        "mode": "markers",
        "name": name,
        "x": list(xs),
        "y": list(points),
        "marker": {"size": 7, "color": PALETTE[0]},
        "meta": "primary",
    }
    return [lo, hi, fitted, dots]
