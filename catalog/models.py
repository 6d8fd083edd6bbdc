"""Canonical model catalog: facts per model and the aliases providers use for it.

Placeholder resolver until the catalog issue lands: it loads ``models.yaml`` and
matches exact aliases only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

CATALOG_PATH = Path(__file__).with_name("models.yaml")
Tier = Literal["frontier", "strong", "good", "fast", "local"]


class CanonicalModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str
    name: str
    vendor: str
    family: str
    release_date: date
    open_weights: bool
    total_params_b: Decimal | None = None
    active_params_b: Decimal | None = None
    tier: Tier
    reasoning: bool = False
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...]


@cache
def load_models() -> dict[str, CanonicalModel]:
    if not CATALOG_PATH.exists():
        return {}
    entries = yaml.safe_load(CATALOG_PATH.read_text()) or []
    return {m.slug: m for m in (CanonicalModel(**e) for e in entries)}


@cache
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for model in load_models().values():
        for alias in (model.slug, *model.aliases):
            index[alias.lower()] = model.slug
    return index


def resolve_model(provider: str, provider_model_id: str) -> str | None:
    pid = provider_model_id.lower().removesuffix(":free")
    index = _alias_index()
    return index.get(pid) or index.get(pid.split("/", 1)[-1])
