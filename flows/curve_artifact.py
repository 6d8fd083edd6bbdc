"""The numbers behind a cost-curve link: the last 12 monthly buckets, as markdown.

A scrape run's artifacts link to the curves its new prices changed; a reviewer
in the Prefect UI should see the numbers without leaving it. The curve comes
from the running API (the same computation people get); when the API is not
reachable the artifact says so and keeps the links.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

LAST_BUCKETS = 12
_COLUMNS = (
    ("as of", "as_of"),
    ("cheapest $/M", "min"),
    ("model", "cheapest_model"),
    ("provider", "cheapest_provider"),
    ("p25", "p25"),
    ("median", "median"),
    ("offerings", "count"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text[:10] if len(text) >= 20 and text[4] == "-" else text.replace("|", "\\|")


def curve_markdown(title: str, url: str, points: list[dict[str, Any]] | None) -> str:
    """``points``: the curve's rows (None: the API could not be asked)."""
    tier = parse_qs(urlsplit(url).query).get("tier", [""])[0]
    base = url.split("/v1/", 1)[0]
    lines = [
        f"# {title}",
        "",
        f"[JSON]({url}) · [CSV]({url}&format=csv) · [chart]({base}/ui/curves?tier={tier})",
        "",
    ]
    if points is None:
        return "\n".join([*lines, "_The API was not reachable; open the links for the numbers._"])
    if not points:
        return "\n".join([*lines, "_No priced offering in this tier._"])
    last = points[-LAST_BUCKETS:]
    lines += [
        f"Last {len(last)} monthly buckets, blended USD per million tokens (3 input : 1 output):",
        "",
        "| " + " | ".join(label for label, _ in _COLUMNS) + " |",
        "|"
        + "|".join(
            "---:" if key in {"min", "p25", "median", "count"} else "---" for _, key in _COLUMNS
        )
        + "|",
    ]
    lines += ["| " + " | ".join(_cell(p.get(key)) for _, key in _COLUMNS) + " |" for p in last]
    return "\n".join(lines) + "\n"


async def fetch_points(internal_base: str, url: str) -> list[dict[str, Any]] | None:
    """The monthly curve behind a public cost-curve ``url``, asked of the internal API."""
    query = urlsplit(url).query
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            response = await client.get(f"{internal_base}/v1/cost-curve?{query}&interval=month")
            response.raise_for_status()
        points: list[dict[str, Any]] = response.json()["points"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        # Not our API answering (or not at all): the artifact keeps its links only.
        return None
    return points
