"""Benchmark and leaderboard model names -> canonical catalog slugs.

Score sources spell models their own way: Epoch AI's Hub uses API ids with a
reasoning-effort or thinking-budget suffix (``o3-2025-04-16_high``,
``claude-3-7-sonnet-20250219_32K``, ``gemini-2.5-flash-preview-04-17 (24K thinking)``),
LMArena mixes lowercase API ids (``claude-3-5-sonnet-20241022``) with display names
(``Claude 3.5 Sonnet (20241022)``, ``Meta-Llama-3.1-70B-Instruct``) and marks
thinking modes (``claude-opus-4-20250514-thinking-16k``, ``gpt-5-high``).

The effort/thinking setting selects how long one model thinks, not other
weights, so it is dropped, as the catalog already folds a model's reasoning
modes into one slug. What remains goes through the catalog's own resolution
(``resolve_model``), with the source's family as the provider (``epoch`` for
``epoch-hub``, ``lmarena`` for every ``lmarena-*`` history) so that aliases the
catalog scopes to a score source (``provider_aliases: {lmarena: [...]}``) apply
only there. Every candidate is a mechanical rewrite; nothing is fuzzy-matched,
so a name is either resolved by a reviewed alias or listed as unresolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from costcurve.catalog.models import resolve_model

# Epoch: "_high", "_32K", "_unknown", "_thinking"; a display-style " (24K thinking)".
_EPOCH_EFFORT = re.compile(
    r"(?:_(?:minimal|low|medium|high|xhigh|max|none|unknown|thinking|\d+k)|\s*\(\d+k thinking\))$",
    re.IGNORECASE,
)
# LMArena: "-thinking", "-thinking-32k", "-no-thinking", "-high" (gpt-5-high), " (thinking-16k)".
_ARENA_EFFORT = re.compile(
    r"(?:-(?:no-)?thinking(?:-\d+k)?|-high|\s*\((?:no-)?thinking(?:-\d+k)?\))$", re.IGNORECASE
)
# Display names put the snapshot date in parentheses: "Claude 3.5 Sonnet (20241022)".
_PAREN_DATE = re.compile(r"\s*\((\d{4}-\d{2}-\d{2}|\d{8}|\d{2}-\d{4}|\d{2}-\d{2})\)$")
_META_PREFIX = re.compile(r"^meta-(?=llama)", re.IGNORECASE)


def _variants(name: str) -> Iterator[str]:
    base = name.strip()
    yield base
    stripped = _EPOCH_EFFORT.sub("", base)
    stripped = _ARENA_EFFORT.sub("", stripped)
    dated = _PAREN_DATE.sub(lambda m: "-" + m.group(1), stripped)
    for candidate in (stripped, dated, _META_PREFIX.sub("", dated)):
        if candidate and candidate != base:
            yield candidate


def score_provider(source: str) -> str:
    """The catalog's provider key for a score source: ``lmarena-catalog`` -> ``lmarena``."""
    return source.split("-", 1)[0]


def resolve_score_model(source: str, name: str) -> str | None:
    """Catalog slug for a model name as a score source writes it, or None."""
    provider = score_provider(source)
    for candidate in _variants(name):
        slug = resolve_model(provider, candidate)
        if slug is not None:
            return slug
    return None
