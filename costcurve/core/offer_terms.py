"""What kind of price a listing is: its variant, whether its context tier is the
base one, and the precision a published price has.

One definition per rule (ARCHITECTURE.md "Which prices count"): only
``standard`` list prices of the base context tier count by default; every
other variant (batch, flex, priority, off-peak, promotion, OpenRouter's
``:free``/``:nitro``/``:floor``/... routes) is kept and versioned but left out
of curves, cheapest picks, alerts and break-even unless a request names it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

STANDARD = "standard"
PROMOTION = "promotion"

# Suffix or parenthesised name marker -> variant. Unknown suffixes still become
# their own variant (see ``suffix_variant``); these only normalise spellings.
_VARIANT_SPELLINGS = {
    "batches": "batch",
    "self-moderated": "beta",
    "off-peak": "off_peak",
    "offpeak": "off_peak",
}
# Words that, in parentheses in a listing's display name, name a service tier
# or a route rather than a model ("Gemini 2.5 Pro (batch)").
NAME_MARKERS = frozenset(
    {
        "batch",
        "batches",
        "flex",
        "priority",
        "free",
        "floor",
        "nitro",
        "online",
        "thinking",
        "exacto",
        "extended",
        "fast",
        "beta",
        "self-moderated",
        "off-peak",
    }
)
# An OpenRouter-style route suffix is a word (``:batch``, ``:self-moderated``);
# version suffixes such as Bedrock's ``:0`` or Ollama's ``:70b`` carry digits.
_SUFFIX = re.compile(r"^(?P<base>[^:]+):(?P<word>[a-z][a-z_-]*)$", re.I)
_MARKER = re.compile(r"\(([^)]*)\)")


def normal_variant(word: str) -> str:
    word = word.strip().lower()
    return _VARIANT_SPELLINGS.get(word, word).replace("-", "_")


def suffix_variant(model_id: str) -> tuple[str, str]:
    """``(base id, variant)`` of an OpenRouter-style id: ``x:batch`` -> ``(x, "batch")``."""
    match = _SUFFIX.match(model_id)
    if match is None:
        return model_id, STANDARD
    return match["base"], normal_variant(match["word"])


def name_variant(name: str | None) -> str | None:
    """The variant a display name states in parentheses, if any ("... (batch)")."""
    for marker in _MARKER.findall(name or ""):
        if marker.strip().lower() in NAME_MARKERS:
            return normal_variant(marker)
    return None


def listing_variant(model_id: str, name: str | None = None) -> tuple[str, str]:
    """``(base id, variant)`` from an id suffix, else from a name marker, else standard."""
    base, variant = suffix_variant(model_id)
    if variant == STANDARD:
        variant = name_variant(name) or STANDARD
    return base, variant


def is_base_context_tier(tier: str | None) -> bool:
    """The base price of a tiered model: no tier, or an upper-bounded one (``<=200k``)."""
    return tier is None or tier.lstrip().startswith(("<", "\u2264"))


# Prices are published with a few significant digits. A per-token float, or a
# price converted from another unit (Databricks DBUs), arrives as the published
# decimal plus noise: a run of nines or zeros right before its last digit or
# two (1.24999 for 1.25, 9.99999 for 10, 0.0799999993 for 0.08, 1.00002 for 1).
# Such a value is snapped to the decimal before the run; a price without such a
# run (0.266688, 0.01703012) is a real price and stays exact.
NOISE_RUN = 3  # at least this many 9s or 0s in a row
NOISE_TAIL = 2  # followed by at most this many digits
MIN_NOISY_DIGITS = 5  # shorter values (0.1999) are taken as written
_NOISE = re.compile(f"(0{{{NOISE_RUN},}}|9{{{NOISE_RUN},}})")


def published_price(value: Decimal) -> Decimal:
    """``value`` without float/conversion noise (see NOISE_RUN), else unchanged."""
    if value == 0 or not value.is_finite():
        return value
    while (snapped := _snap_once(value)) != value:
        value = snapped
    return value


def _snap_once(value: Decimal) -> Decimal:
    _sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    if len(text) < MIN_NOISY_DIGITS:
        return value
    for match in _NOISE.finditer(text):
        if len(text) - match.end() > NOISE_TAIL:
            continue
        # Keep the digits before the run; the run's own digits decide up or down.
        place = exponent + len(text) - match.start()
        return _plain(value.quantize(Decimal(1).scaleb(place), rounding=ROUND_HALF_EVEN))
    return value


def same_price(a: Decimal | None, b: Decimal | None) -> bool:
    """Equal once noise is removed: a move below the published precision is no change."""
    if a is None or b is None:
        return a is b
    return a == b or published_price(a) == published_price(b)


def _plain(value: Decimal) -> Decimal:
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value
