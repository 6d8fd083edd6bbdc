"""The rules of "which prices count" that every parser and reader shares (core.offer_terms)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from costcurve.core.offer_terms import (
    is_base_context_tier,
    listing_variant,
    published_price,
    same_price,
    suffix_variant,
)
from tests.support import DATASETS, require_shared


@pytest.mark.parametrize(
    ("model_id", "name", "expected"),
    [
        ("google/gemini-2.5-pro:batch", None, ("google/gemini-2.5-pro", "batch")),
        (
            "meta-llama/llama-3.3-70b-instruct:free",
            None,
            ("meta-llama/llama-3.3-70b-instruct", "free"),
        ),
        ("anthropic/claude-3.5-sonnet:beta", None, ("anthropic/claude-3.5-sonnet", "beta")),
        ("x/y:self-moderated", None, ("x/y", "beta")),
        ("x/y:floor", None, ("x/y", "floor")),
        ("x/y", "Gemini 2.5 Pro (batch)", ("x/y", "batch")),
        ("x/y", "Claude Opus 4.6 (Fast)", ("x/y", "fast")),
        ("x/y", "Mistral Large (24.02)", ("x/y", "standard")),
        # Version suffixes carry digits and are part of the model id.
        ("anthropic.claude-v2:1", None, ("anthropic.claude-v2:1", "standard")),
        ("ollama/llama3:70b", None, ("ollama/llama3:70b", "standard")),
        ("ft:gpt-4o-2024-08-06", None, ("ft:gpt-4o-2024-08-06", "standard")),
    ],
)
def test_listing_variant_reads_route_suffixes_and_name_markers(
    model_id: str, name: str | None, expected: tuple[str, str]
) -> None:
    assert listing_variant(model_id, name) == expected


def test_every_suffixed_id_in_the_openrouterlist_dataset_is_a_non_standard_variant() -> None:
    path = require_shared(DATASETS / "openrouterlist" / "prices.json")
    ids = [i for i in json.loads(path.read_bytes())["models"] if ":" in i]
    assert sum(i.endswith(":batch") for i in ids) >= 60
    for model_id in ids:
        base, variant = suffix_variant(model_id)
        assert variant != "standard", model_id
        assert base == model_id.split(":")[0], model_id


@pytest.mark.parametrize(
    ("tier", "base"),
    [(None, True), ("<=200k", True), ("\u2264200k", True), (">200k", False), ("long", False)],
)
def test_the_base_context_tier_is_none_or_an_upper_bound(tier: str | None, base: bool) -> None:
    assert is_base_context_tier(tier) is base


@pytest.mark.parametrize(
    ("raw", "published"),
    [
        ("1.24999", "1.25"),
        ("9.99999", "10"),
        ("2.9999900000000002", "3"),
        ("0.0799999993", "0.08"),
        ("0.0199999995", "0.02"),
        ("1.00002", "1"),
        ("0.18000000000000002", "0.18"),
        # Real prices stay exact, however many digits they have.
        ("0.266688", "0.266688"),
        ("0.01703012", "0.01703012"),
        ("2.1875", "2.1875"),
        ("0.1999", "0.1999"),
        ("17.857", "17.857"),
    ],
)
def test_published_price_removes_float_noise_only(raw: str, published: str) -> None:
    assert published_price(Decimal(raw)) == Decimal(published)


def test_a_move_below_the_published_precision_is_not_a_change() -> None:
    assert same_price(Decimal("1.24999"), Decimal("1.25"))
    assert same_price(Decimal("9.99999"), Decimal("10"))
    assert not same_price(Decimal("1.24"), Decimal("1.25"))
    assert same_price(None, None)
    assert not same_price(None, Decimal(0))
