"""The post-ingest warm-up requests every curve the README's examples and the
dashboard's choices ask for (read from those files, not restated here)."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from urllib.parse import parse_qsl

from api.curve_query import CurveQuery
from costcurve.catalog.models import TIERS
from flows.analytics import warm_requests

ROOT = Path(__file__).resolve().parent.parent


# A parameter at its default asks for the same curve (the same cache key) as none.
DEFAULTS = {f.name: f.default for f in fields(CurveQuery)}


def _curve(params: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset((k, v) for k, v in params.items() if v and DEFAULTS.get(k) != v)


def _warmed() -> set[tuple[str, frozenset[tuple[str, str]]]]:
    return {(path, _curve(params)) for path, params in warm_requests()}


def test_every_readme_cost_curve_example_is_warmed() -> None:
    readme = (ROOT / "README.md").read_text()
    examples = re.findall(r"/v1/cost-curve(?:\?([^\s`)\"']*))?", readme)
    assert examples
    warmed = _warmed()
    for query in examples:
        key = ("/v1/cost-curve", _curve(dict(parse_qsl(query))))
        assert key in warmed, f"README example /v1/cost-curve?{query} is not warmed"


def test_every_dashboard_interval_is_warmed_for_every_tier_and_all_tiers() -> None:
    template = (ROOT / "api" / "ui" / "templates" / "curves.html").read_text()
    found = re.search(r"{% for i in \[([^\]]*)\] %}<option{% if query.interval", template)
    assert found is not None
    intervals = [i.strip().strip('"') for i in found.group(1).split(",")]
    assert intervals
    warmed = _warmed()
    for interval in intervals:
        assert ("/ui/curves", _curve({"interval": interval})) in warmed
        for tier in (None, *TIERS):
            params = {"interval": interval} | ({"tier": tier} if tier else {})
            assert ("/v1/cost-curve", _curve(params)) in warmed
