"""Canonical model catalog: facts per model and the provider ids that mean it.

``models.yaml`` beside this file is the reviewed catalog (its header explains
how tiers, ``reasoning`` and aliases are assigned). This module validates it
and resolves a provider's model id to a canonical slug.

Resolution prefers a miss to a wrong answer: it only ever looks ids up in the
explicit alias lists, after a few documented, mechanical normalisations:

1. case, surrounding whitespace, inner whitespace to ``-`` (display names such
   as "Claude Opus 4.1" become ``claude-opus-4.1``);
2. OpenRouter routing/variant suffixes are dropped (``:free``, ``:nitro``,
   ``:beta``, ``:floor``, ``:exacto``, ``:extended``, ``:online``, ``:batch``,
   ``:thinking``): they select a price or mode, not other weights;
3. Vertex's ``@`` before a version (``claude-3-5-sonnet@20240620``) becomes ``-``;
4. leading path segments are tried off one at a time, most specific first
   (``together_ai/meta-llama/llama-3.3-70b-instruct-turbo`` ->
   ``meta-llama/llama-3.3-70b-instruct-turbo`` -> ``llama-3.3-70b-instruct-turbo``),
   which covers vendor prefixes, ``accounts/fireworks/models/`` and litellm's
   provider prefixes;
5. a Bedrock id (``us.anthropic.claude-3-5-sonnet-20241022-v2:0``), or an Oracle
   OCI id spelled the same way (``xai.grok-4``), is also tried without its region
   prefix, vendor prefix and ``-vN:M`` version suffix (a version always has a
   colon there, so ``nemotron-nano-9b-v2`` keeps its ``-v2``), and a Databricks
   endpoint name (``databricks-claude-sonnet-4``) without its ``databricks-``
   prefix, which names the host, not the model;
6. a pricing page's display name is also tried without a leading vendor word
   (Bedrock's "Amazon Nova Pro", "NVIDIA Nemotron Nano 2") and with a trailing
   parenthesised size moved into the name the way model ids spell it (Bedrock's
   "Llama 3.3 Instruct (70B)" -> ``llama-3.3-70b-instruct``);
7. an alias written ``name-{date}`` matches ``name-YYYYMMDD`` and
   ``name-YYYY-MM-DD`` only: date snapshots are folded into one model only
   where the catalog says so. Short version suffixes such as ``-0324`` are
   never stripped (``deepseek-chat-v3-0324`` is its own model).

Aliases that mean different models at different providers (OpenRouter pins
``deepseek/deepseek-chat`` to DeepSeek-V3, DeepSeek's own API moves it to each
new release) go under ``provider_aliases`` and only match for that provider.
Pointers that can move to another model (Mistral's ``*-latest``, ``deepseek-chat``
at DeepSeek, OpenRouter's ``~vendor/...-latest``) are deliberately left
unresolved; a ``-latest`` that stays within one model (``claude-3-5-sonnet-latest``)
is an ordinary alias.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CATALOG_PATH = Path(__file__).with_name("models.yaml")
Tier = Literal["frontier", "strong", "good", "fast", "local"]
# Highest capability band first, as in seed 003 section 4.
TIERS: tuple[Tier, ...] = get_args(Tier)

DATE_PLACEHOLDER = "-{date}"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
_VARIANT_SUFFIX = re.compile(r":(?:free|nitro|beta|floor|exacto|extended|online|batch|thinking)$")
_DATE_SUFFIX = re.compile(r"^(?P<stem>.+)-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_BEDROCK_REGION = re.compile(r"^(?:us|eu|apac|ap|au|ca|jp|global|us-gov)\.")
_BEDROCK_VENDOR = re.compile(
    r"^(?:anthropic|meta|amazon|mistral|deepseek|openai|qwen|cohere|ai21|writer|moonshot|moonshotai"
    r"|minimax|google|nvidia|zai|xai)\."
)
# Display names that lead with the vendor ("Amazon Nova Pro", "NVIDIA Nemotron Nano 2").
_VENDOR_WORD = re.compile(
    r"^(?:amazon|nvidia|google|meta|mistral|anthropic|openai|ai21|microsoft)-"
)
# "llama-3.3-instruct-(70b)": family-version, kind, then the size in parentheses.
_PAREN_SIZE = re.compile(
    r"^(?P<family>[a-z]+-[\d.]+)-(?P<kind>[a-z]+)-\((?P<size>\d+(?:\.\d+)?b)\)$"
)
# Databricks serves its pay-per-token models as endpoints named "databricks-<model>".
_HOST_PREFIX = re.compile(r"^databricks-")
# Bedrock/Vertex model versions always carry a colon ("-v2:0", "-1:0", "-v1:0:48k"); a bare "-v2"
# is left alone because it is often part of the name (nemotron-nano-9b-v2).
_VERSION_SUFFIX = re.compile(r"-v?\d+(?::[0-9k]+)+$")


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
    # False for safety classifiers and other non-chat models: in no capability tier.
    chat: bool = True
    reasoning: bool = False
    aliases: tuple[str, ...] = ()
    # provider (as in LlmPrice.provider) -> ids that mean this model only there.
    provider_aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    sources: tuple[str, ...] = Field(min_length=1)

    @field_validator("slug")
    @classmethod
    def _slug_shape(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(f"slug {value!r} must be lowercase letters, digits, '.', '-'")
        return value

    @field_validator("aliases", "sources")
    @classmethod
    def _no_blank(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in values):
            raise ValueError("blank alias or source")
        return values

    @model_validator(mode="after")
    def _params_consistent(self) -> CanonicalModel:
        total, active = self.total_params_b, self.active_params_b
        if (total is not None and total <= 0) or (active is not None and active <= 0):
            raise ValueError(f"{self.slug}: parameter counts must be positive")
        if total is not None and active is not None and active > total:
            raise ValueError(f"{self.slug}: active params {active}B exceed total {total}B")
        return self


def normalise(model_id: str) -> str:
    """Rules 1-3 of the module docstring; aliases are stored in this form too."""
    value = re.sub(r"\s+", "-", model_id.strip().lower())
    while match := _VARIANT_SUFFIX.search(value):
        value = value[: match.start()]
    return value[:1] + value[1:].replace("@", "-")


def candidates(model_id: str) -> Iterator[str]:
    """Keys to look up for an id, most specific first (rules 4-6)."""
    parts = normalise(model_id).split("/")
    for start in range(len(parts)):
        tail = "/".join(parts[start:])
        if tail:
            yield tail
    last = _BEDROCK_REGION.sub("", parts[-1])
    bare = _BEDROCK_VENDOR.sub("", last)
    for key in (last, bare, _VERSION_SUFFIX.sub("", bare), _HOST_PREFIX.sub("", bare)):
        if key and key != parts[-1]:
            yield key
    yield from _display_name_keys(parts[-1])


def _display_name_keys(name: str) -> Iterator[str]:
    """Rule 6: a display name without its vendor word, with its size moved in."""
    for key in dict.fromkeys((name, _VENDOR_WORD.sub("", name))):
        if match := _PAREN_SIZE.match(key):
            yield f"{match['family']}-{match['size']}-{match['kind']}"
        if key != name:
            yield key


@cache
def load_models() -> dict[str, CanonicalModel]:
    if not CATALOG_PATH.exists():
        return {}
    entries = yaml.safe_load(CATALOG_PATH.read_text()) or []
    models: dict[str, CanonicalModel] = {}
    for entry in entries:
        model = CanonicalModel(**entry)
        if model.slug in models:
            raise ValueError(f"duplicate catalog slug {model.slug!r}")
        models[model.slug] = model
    return models


@dataclass(frozen=True)
class _Index:
    exact: dict[str, str]
    dated: dict[str, str]  # alias stem -> slug, for ``stem-{date}`` aliases
    scoped: dict[tuple[str, str], str]  # (provider, alias) -> slug


def _claim(table: dict[str, str], key: str, slug: str) -> None:
    owner = table.setdefault(key, slug)
    if owner != slug:
        raise ValueError(f"alias {key!r} claimed by both {owner!r} and {slug!r}")


@cache
def _index() -> _Index:
    exact: dict[str, str] = {}
    dated: dict[str, str] = {}
    scoped: dict[tuple[str, str], str] = {}
    for model in load_models().values():
        for alias in (model.slug, *model.aliases):
            key = normalise(alias)
            if key.endswith(DATE_PLACEHOLDER):
                _claim(dated, key.removesuffix(DATE_PLACEHOLDER), model.slug)
            else:
                _claim(exact, key, model.slug)
        for provider, aliases in model.provider_aliases.items():
            for alias in aliases:
                key2 = (provider.lower(), normalise(alias))
                owner = scoped.setdefault(key2, model.slug)
                if owner != model.slug:
                    raise ValueError(f"{key2} claimed by both {owner!r} and {model.slug!r}")
    return _Index(exact=exact, dated=dated, scoped=scoped)


def _lookup(provider: str, key: str, index: _Index) -> str | None:
    if (provider, key) in index.scoped:
        return index.scoped[(provider, key)]
    if key in index.exact:
        return index.exact[key]
    dated = _DATE_SUFFIX.match(key)
    return index.dated.get(dated["stem"]) if dated else None


def resolve_model(provider: str, provider_model_id: str) -> str | None:
    """Canonical slug for a provider's model id, or None when not certain."""
    index = _index()
    provider = provider.strip().lower()
    for key in candidates(provider_model_id):
        slug = _lookup(provider, key, index)
        if slug is not None:
            return slug
    return None


def unresolved(ids: Iterable[str], provider: str = "") -> list[str]:
    """The ids (first occurrence order, no repeats) that resolve to nothing."""
    seen: dict[str, None] = {}
    for model_id in ids:
        if model_id not in seen and resolve_model(provider, model_id) is None:
            seen[model_id] = None
    return list(seen)


def models_in_tier(tier: str) -> list[CanonicalModel]:
    """Catalog models of one tier, oldest release first."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}")
    found = [m for m in load_models().values() if m.tier == tier]
    return sorted(found, key=lambda m: (m.release_date, m.slug))
