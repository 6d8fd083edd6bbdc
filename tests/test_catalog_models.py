"""The reviewed model catalog (catalog/models.yaml) and its id resolver."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from costcurve.catalog.models import (
    CATALOG_PATH,
    DATE_PLACEHOLDER,
    TIERS,
    CanonicalModel,
    load_models,
    models_in_tier,
    normalise,
    resolve_model,
    unresolved,
)
from scrapers import openrouter
from tests.support import FIXTURES, fixture_files, observed_at_for, require_shared

ENTRIES: list[dict[str, Any]] = yaml.safe_load(CATALOG_PATH.read_text())
MODELS = load_models()


def _expand(alias: str) -> list[str]:
    """Concrete ids an alias stands for: a ``{date}`` pattern in both date spellings."""
    if not alias.endswith(DATE_PLACEHOLDER):
        return [alias]
    stem = alias.removesuffix(DATE_PLACEHOLDER)
    return [f"{stem}-20250101", f"{stem}-2025-01-01"]


# --- the catalog itself ---------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["slug"])
def test_catalog_entry_validates_and_cites_a_source(entry: dict[str, Any]) -> None:
    model = CanonicalModel(**entry)
    assert model.sources, f"{model.slug} has no source"
    assert model.tier in TIERS


def test_catalog_entry_with_unknown_field_is_rejected() -> None:
    entry = dict(ENTRIES[0], context_window=128000)
    with pytest.raises(ValidationError, match="context_window"):
        CanonicalModel(**entry)


def test_catalog_entry_without_sources_is_rejected() -> None:
    with pytest.raises(ValidationError, match="sources"):
        CanonicalModel(**dict(ENTRIES[0], sources=[]))


def test_catalog_slugs_are_unique() -> None:
    slugs = [e["slug"] for e in ENTRIES]
    assert len(slugs) == len(set(slugs)) == len(MODELS)


def test_moe_active_params_never_exceed_total() -> None:
    for model in MODELS.values():
        if model.total_params_b is not None and model.active_params_b is not None:
            assert model.active_params_b <= model.total_params_b, model.slug


def test_active_params_above_total_are_rejected() -> None:
    entry = dict(ENTRIES[0], total_params_b=10, active_params_b=20)
    with pytest.raises(ValidationError, match="exceed"):
        CanonicalModel(**entry)


def test_open_weight_moe_entries_state_both_parameter_counts() -> None:
    # Known MoE shapes from the seeds: active params are the cost denominator.
    shapes = {
        "mixtral-8x7b-instruct": ("46.7", "12.9"),
        "deepseek-v3": ("671", "37"),
        "deepseek-v4-flash": ("284", "13"),
        "mistral-small-4": ("119", "6"),
        "qwen3-235b-a22b": ("235", "22"),
    }
    for slug, (total, active) in shapes.items():
        model = MODELS[slug]
        assert (model.total_params_b, model.active_params_b) == (Decimal(total), Decimal(active))


def test_tiers_partition_the_catalog() -> None:
    by_tier = {tier: models_in_tier(tier) for tier in TIERS}
    assert sum(len(models) for models in by_tier.values()) == len(MODELS)
    assert all(by_tier.values()), "every tier has models"
    for models in by_tier.values():
        dates = [m.release_date for m in models]
        assert dates == sorted(dates)


def test_models_in_tier_rejects_unknown_tier() -> None:
    with pytest.raises(ValueError, match="unknown tier"):
        models_in_tier("premium")


@pytest.mark.parametrize(
    ("slug", "tier"),
    [
        # The band examples of seed 003 section 4.
        ("claude-opus-4", "frontier"),
        ("o1", "frontier"),
        ("gemini-2.5-pro", "frontier"),
        ("claude-sonnet-4", "strong"),
        ("gpt-4.1", "strong"),
        ("gpt-4o-mini", "good"),
        ("claude-3.5-haiku", "good"),
        ("deepseek-v3", "good"),
        ("gemini-2.0-flash", "fast"),
        ("gpt-4.1-nano", "fast"),
        ("llama-3.2-3b-instruct", "fast"),
        ("gpt-oss-20b", "local"),
    ],
)
def test_seed_band_examples_sit_in_their_band(slug: str, tier: str) -> None:
    assert MODELS[slug].tier == tier


def test_reasoning_flag_marks_reasoning_models_only() -> None:
    assert MODELS["o3"].reasoning
    assert MODELS["deepseek-r1"].reasoning
    assert not MODELS["gpt-4o"].reasoning
    assert not MODELS["deepseek-v3"].reasoning


@pytest.mark.parametrize(
    "slug",
    [
        "gpt-4",
        "gpt-4-turbo",
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "gpt-5",
        "gpt-5.5",
        "o1",
        "o1-mini",
        "o3",
        "o3-mini",
        "o4-mini",
        "claude-3-opus",
        "claude-3-sonnet",
        "claude-3-haiku",
        "claude-3.5-sonnet",
        "claude-3.5-haiku",
        "claude-3.7-sonnet",
        "claude-sonnet-4",
        "claude-opus-4.1",
        "claude-sonnet-4.5",
        "claude-opus-4.5",
        "gemini-2.0-flash",
        "gemini-2.0-flash-lite",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
        "gemini-3-pro",
        "deepseek-v3",
        "deepseek-v3.1",
        "deepseek-v3.2",
        "deepseek-r1",
        "deepseek-v4-flash",
        "deepseek-v4-pro",
        "llama-3.1-8b-instruct",
        "llama-3.1-70b-instruct",
        "llama-3.1-405b-instruct",
        "llama-3.2-1b-instruct",
        "llama-3.2-3b-instruct",
        "llama-3.3-70b-instruct",
        "llama-4-scout",
        "llama-4-maverick",
        "qwen2.5-7b-instruct",
        "qwen2.5-72b-instruct",
        "qwen2.5-coder-32b-instruct",
        "qwen3-235b-a22b",
        "qwen3-30b-a3b",
        "qwen3-coder-480b-a35b-instruct",
        "qwen3.5-397b-a17b",
        "qwen3.6-plus",
        "mistral-small-3.2",
        "mistral-medium-3",
        "mistral-large-3",
        "mixtral-8x7b-instruct",
        "mixtral-8x22b-instruct",
        "mistral-nemo",
        "gemma-3-27b-it",
        "gemma-4-31b-it",
        "gpt-oss-20b",
        "gpt-oss-120b",
    ],
)
def test_catalog_covers_the_required_models(slug: str) -> None:
    assert slug in MODELS


# --- aliases ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", list(MODELS.values()), ids=lambda m: m.slug)
def test_every_alias_resolves_to_its_own_model(model: CanonicalModel) -> None:
    for alias in (model.slug, *model.aliases):
        for concrete in _expand(alias):
            assert resolve_model("any-provider", concrete) == model.slug, concrete
    for provider, aliases in model.provider_aliases.items():
        for alias in aliases:
            assert resolve_model(provider, alias) == model.slug, (provider, alias)
            assert resolve_model("elsewhere", alias) is None, (provider, alias)


def test_no_two_models_claim_the_same_alias() -> None:
    owners: dict[str, set[str]] = {}
    for model in MODELS.values():
        for alias in (model.slug, *model.aliases):
            owners.setdefault(normalise(alias), set()).add(model.slug)
        for provider, aliases in model.provider_aliases.items():
            for alias in aliases:
                owners.setdefault(f"{provider}::{normalise(alias)}", set()).add(model.slug)
    clashes = {alias: slugs for alias, slugs in owners.items() if len(slugs) > 1}
    assert not clashes


def test_no_literal_alias_falls_under_another_models_date_pattern() -> None:
    stems = {
        normalise(a).removesuffix(DATE_PLACEHOLDER): m.slug
        for m in MODELS.values()
        for a in m.aliases
        if a.endswith(DATE_PLACEHOLDER)
    }
    dated = re.compile(r"^(?P<stem>.+)-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
    for model in MODELS.values():
        for alias in (model.slug, *model.aliases):
            match = dated.match(normalise(alias))
            if match and match["stem"] in stems:
                assert stems[match["stem"]] == model.slug, alias


# --- resolution of real ids (all read in ../shared/fixtures) -----------------------------


@pytest.mark.parametrize(
    ("provider", "model_id", "slug"),
    [
        ("openrouter", "meta-llama/llama-3.3-70b-instruct", "llama-3.3-70b-instruct"),
        ("openrouter", "meta-llama/llama-3.3-70b-instruct:free", "llama-3.3-70b-instruct"),
        ("openrouter", "deepseek/deepseek-chat-v3-0324", "deepseek-v3-0324"),
        ("openrouter", "deepseek/deepseek-r1-0528", "deepseek-r1-0528"),
        ("openrouter", "deepseek/deepseek-chat", "deepseek-v3"),
        ("openrouter", "anthropic/claude-sonnet-4", "claude-sonnet-4"),
        ("openrouter", "anthropic/claude-3.7-sonnet:thinking", "claude-3.7-sonnet"),
        ("openrouter", "openai/gpt-4o-mini", "gpt-4o-mini"),
        ("openrouter", "openai/gpt-4o-2024-05-13", "gpt-4o"),
        ("openrouter", "openai/gpt-oss-120b:exacto", "gpt-oss-120b"),
        ("openrouter", "qwen/qwen3-235b-a22b-2507", "qwen3-235b-a22b-instruct-2507"),
        ("anthropic", "claude-opus-4-1", "claude-opus-4.1"),
        ("anthropic", "Claude Sonnet 3.7", "claude-3.7-sonnet"),
        ("anthropic", "Claude Haiku 3.5", "claude-3.5-haiku"),
        ("anthropic", "claude-3-5-sonnet-20240620", "claude-3.5-sonnet"),
        ("openai", "gpt-4o-2024-08-06", "gpt-4o"),
        ("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("openai", "o4-mini-2025-04-16", "o4-mini"),
        ("azure", "azure/gpt-35-turbo-0125", "gpt-3.5-turbo"),
        ("gemini", "Gemini 2.5 Flash-Lite", "gemini-2.5-flash-lite"),
        ("gemini", "gemini/gemini-2.5-pro-preview-05-06", "gemini-2.5-pro"),
        ("deepseek", "deepseek-v4-flash", "deepseek-v4-flash"),
        ("xai", "grok-4-1-fast-reasoning", "grok-4.1-fast"),
        ("xai", "grok-4.20-0309-non-reasoning", "grok-4.20"),
        ("mistral", "mistral-large-3-25-12", "mistral-large-3"),
        ("mistral", "open-mistral-nemo", "mistral-nemo"),
        ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "llama-3.3-70b-instruct"),
        ("together", "Qwen/Qwen3-235B-A22B-fp8-tput", "qwen3-235b-a22b"),
        ("together", "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", "llama-3.1-405b-instruct"),
        ("deepinfra", "meta-llama/Llama-3.3-70B-Instruct", "llama-3.3-70b-instruct"),
        ("deepinfra", "deepseek-ai/DeepSeek-V3-0324", "deepseek-v3-0324"),
        ("deepinfra", "anthropic/claude-4-sonnet", "claude-sonnet-4"),
        ("bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3.5-sonnet"),
        ("bedrock_converse", "anthropic.claude-sonnet-4-6", "claude-sonnet-4.6"),
        ("bedrock_converse", "nvidia.nemotron-nano-9b-v2", "nemotron-nano-9b-v2"),
        ("bedrock_converse", "zai.glm-5", "glm-5"),
        ("bedrock", "openai.gpt-oss-120b-1:0", "gpt-oss-120b"),
        ("vertex_ai-anthropic_models", "vertex_ai/claude-3-7-sonnet@20250219", "claude-3.7-sonnet"),
        (
            "fireworks_ai",
            "fireworks_ai/accounts/fireworks/models/llama-v3p3-70b-instruct",
            "llama-3.3-70b-instruct",
        ),
        ("groq", "groq/llama-3.3-70b-versatile", "llama-3.3-70b-instruct"),
        ("openrouter", "openrouter/deepseek/deepseek-chat", "deepseek-v3"),
        ("anthropic", "claude-sonnet-3-7", "claude-3.7-sonnet"),
        ("google-vertex", "grok-4.20-reasoning", "grok-4.20"),
        ("cerebras", "zai-glm-4.7", "glm-4.7"),
        ("cerebras", "qwen-3-235b-instruct", "qwen3-235b-a22b-instruct-2507"),
        ("databricks", "databricks/databricks-claude-3-7-sonnet", "claude-3.7-sonnet"),
        ("oci", "oci/xai.grok-4.1-fast", "grok-4.1-fast"),
        ("bedrock_converse", "us.amazon.nova-2-pro-preview-20251202-v1:0", "nova-2-pro"),
    ],
)
def test_resolves_real_provider_ids(provider: str, model_id: str, slug: str) -> None:
    assert resolve_model(provider, model_id) == slug


@pytest.mark.parametrize(
    ("provider", "model_id"),
    [
        # Moving pointers: which model they mean depends on the day.
        ("deepseek", "deepseek-chat"),
        ("deepseek", "deepseek/deepseek-reasoner"),
        ("openrouter", "~anthropic/claude-opus-latest"),
        ("openai", "chatgpt-4o-latest"),
        ("mistral", "mistral/mistral-large-latest"),
        # Base checkpoints are not the instruct model.
        ("openrouter", "meta-llama/llama-3.1-405b"),
        ("together", "meta-llama/Llama-3-70b-hf"),
        # Other products built on a catalogued model.
        ("openai", "ft:gpt-4o-2024-08-06"),
        ("openai", "gpt-4o-audio-preview"),
        ("openrouter", "google/gemini-2.5-flash-image"),
        ("openrouter", "openrouter/auto"),
        # Cerebras and Vertex spell instruct models like base checkpoints: only there.
        ("openrouter", "llama-3.1-8b"),
        ("together", "gemma-4-26b"),
    ],
)
def test_leaves_ambiguous_or_different_models_unresolved(provider: str, model_id: str) -> None:
    assert resolve_model(provider, model_id) is None


def test_short_version_suffix_is_a_different_model() -> None:
    assert resolve_model("openrouter", "deepseek/deepseek-chat-v3-0324") != "deepseek-v3"
    assert resolve_model("openrouter", "moonshotai/kimi-k2-0905") == "kimi-k2-0905"


def test_normalise_applies_only_the_documented_rules() -> None:
    assert normalise("  Claude Opus 4.1 ") == "claude-opus-4.1"
    assert normalise("openai/gpt-oss-20b:free") == "openai/gpt-oss-20b"
    assert normalise("claude-3-5-sonnet-v2@20241022") == "claude-3-5-sonnet-v2-20241022"
    assert normalise("meta-llama/Llama-3.3-70B-Instruct-Turbo") == (
        "meta-llama/llama-3.3-70b-instruct-turbo"
    )


def test_unresolved_lists_each_unknown_id_once_in_order() -> None:
    ids = ["openai/gpt-4o", "acme/unknown-1", "acme/unknown-2", "acme/unknown-1"]
    assert unresolved(ids, provider="openrouter") == ["acme/unknown-1", "acme/unknown-2"]


# --- coverage of the recorded OpenRouter listings -----------------------------------------
#
# "Offered by two or more providers", defined from the recorded data: an OpenRouter model
# id, normalised (lowercase, vendor prefix kept, ":free"/":beta"/... variant and trailing
# -YYYYMMDD / -YYYY-MM-DD date removed), that is ALSO listed as a text model by another
# recorded source - Together /v1/models (types chat/language/code/moderation) or DeepInfra
# /v1/openai/models (entries priced per token), compared lowercased without their
# -Turbo/-FP8/-tput/-Reference serving suffix, either to the id itself or to the
# hugging_face_id OpenRouter gives for it - OR whose open-weights model openrouter_frontend
# shows served by two or more hosts.

_TOGETHER_TEXT_TYPES = {"chat", "language", "code", "moderation"}
_SERVING_SUFFIX = re.compile(r"(?:-turbo|-fp8|-tput|-reference)+$")
_TRAILING_DATE = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def _or_key(model_id: str) -> str:
    return _TRAILING_DATE.sub("", re.sub(r":[a-z]+$", "", model_id.lower()))


def _openrouter_docs(path: Path) -> list[dict[str, Any]]:
    doc = json.loads(path.read_bytes())
    data: list[dict[str, Any]] = doc["data"] if isinstance(doc, dict) else doc
    return data


def _pricing(entry: dict[str, Any]) -> dict[str, Any]:
    pricing: dict[str, Any] = (entry.get("metadata") or {}).get("pricing") or {}
    return pricing


def _other_source_ids() -> set[str]:
    """Text-model ids of the other recorded listings, without serving suffixes."""
    ids: set[str] = set()
    for path in fixture_files("together", "*.json"):
        models = json.loads(path.read_bytes())
        ids |= {e["id"] for e in models if e.get("type") in _TOGETHER_TEXT_TYPES}
    for path in fixture_files("deepinfra", "*.json"):
        models = json.loads(path.read_bytes())["data"]
        ids |= {
            e["id"]
            for e in models
            if "input_tokens" in ((e.get("metadata") or {}).get("pricing") or {})
        }
    return {_SERVING_SUFFIX.sub("", i.lower()) for i in ids}


def _multi_host_slugs() -> set[str]:
    slugs: set[str] = set()
    for path in fixture_files("openrouter_frontend", "*.jsonl"):
        for line in path.read_text().splitlines():
            stats = json.loads(line)
            if len({ep["provider_name"] for ep in stats["endpoints"]}) >= 2:
                slugs.add(_or_key(stats["model_slug"]))
    return slugs


def multi_provider_openrouter_ids() -> dict[str, str]:
    """Normalised id -> one raw OpenRouter id, for models offered by 2+ providers."""
    others, multi_host = _other_source_ids(), _multi_host_slugs()
    found: dict[str, str] = {}
    for path in fixture_files("openrouter"):
        hf_ids = {e["id"]: (e.get("hugging_face_id") or "").lower() for e in _openrouter_docs(path)}
        for obs in openrouter.parse(path.read_bytes(), observed_at=observed_at_for(path)):
            key = _or_key(obs.provider_model_id)
            hf = hf_ids.get(obs.provider_model_id, "")
            if key in others or (hf and hf in others) or key in multi_host:
                found.setdefault(key, obs.provider_model_id)
    return found


def test_openrouter_models_offered_by_two_or_more_providers_resolve() -> None:
    require_shared(FIXTURES / "openrouter")
    found = multi_provider_openrouter_ids()
    missing = sorted(key for key in found if resolve_model("openrouter", found[key]) is None)
    rate = 1 - len(missing) / len(found)
    # The definition must keep matching the well-known multi-host models.
    assert {"meta-llama/llama-3.3-70b-instruct", "openai/gpt-oss-120b"} <= set(found)
    assert len(found) >= 50
    assert rate >= 0.9, f"unresolved: {missing}"


def test_most_ids_of_the_latest_openrouter_capture_resolve() -> None:
    require_shared(FIXTURES / "openrouter")
    path = FIXTURES / "openrouter" / "api_v1_models_data_2026-08-03.json"
    ids = [
        o.provider_model_id
        for o in openrouter.parse(path.read_bytes(), observed_at=observed_at_for(path))
    ]
    unique = list(dict.fromkeys(ids))
    missing = unresolved(unique, provider="openrouter")
    rate = 1 - len(missing) / len(unique)
    # Routers, image/audio models, "~...-latest" pointers and niche fine-tunes stay out.
    assert rate >= 0.85, f"unresolved: {missing}"
