"""Jinja2 rendering for the dashboard: one environment, shared filters, the page shell."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from api.ui.assets import static_url, vendor_url
from costcurve.core.jsonenc import dumps, plain

TEMPLATES = Path(__file__).parent / "templates"

NAV: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("curves", "Cost curves"),
    ("deflation", "Deflation"),
    ("prices", "Prices"),
    ("gpus", "GPUs"),
    ("changes", "Changes"),
    ("pipeline", "Pipeline"),
    ("alerts", "Alerts"),
)


def json_script(value: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` block: exact decimals, no ``</``."""
    text = dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def money(value: Decimal | float | int | None, digits: int = 4) -> str:
    """A price as people read it: exact decimals trimmed, floats to ``digits`` significant."""
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return str(plain(value))
    return f"{value:.{digits}g}"


def when(value: datetime | date | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def cell(value: Any) -> str:
    """A table cell's text: money, times, yes/no, or the value itself (a filter, not a
    macro: a macro call per cell was most of a chart page's render time)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or isinstance(value, Decimal | float | int):
        return money(value)
    if isinstance(value, datetime | date):
        return when(value)
    return str(value)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f}%"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters |= {
        "json_script": json_script,
        "money": money,
        "cell": cell,
        "when": when,
        "pct": pct,
    }
    env.globals |= {"nav": NAV, "static_url": static_url, "vendor_url": vendor_url}
    return env


# Pages that draw charts load Plotly (4.8 MB); the others do not.
CHART_PAGES = {"overview.html", "curves.html", "deflation.html", "history.html", "gpus.html"}


def page(request: Request, template: str, active: str, **context: Any) -> HTMLResponse:
    body = (
        environment()
        .get_template(template)
        .render(request=request, active=active, charts_needed=template in CHART_PAGES, **context)
    )
    return HTMLResponse(body)
