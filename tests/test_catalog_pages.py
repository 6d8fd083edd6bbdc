"""The catalog against the recorded pricing pages: text models resolve, the rest stays out.

Every id here is read from the recorded files themselves (../shared/fixtures); the few
ids named in the tests are first checked to be on the page they are taken from.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from costcurve.core.observations import LlmPrice
from scrapers.registry import parse_source
from tests.support import FIXTURES, fixture_files, observed_at_for, require_shared

FIRST_PARTY = ("google", "openai", "anthropic", "mistral", "cerebras", "xai", "deepseek")
# Priced ids that are not LLM text generation (embeddings, speech, image/music generation,
# realtime audio, moderation, OCR): no canonical text model, so they stay unresolved.
NOT_TEXT = re.compile(
    r"image|tts|embed|audio|realtime|live|transcribe|moderation|ocr|voxtral|lyria", re.IGNORECASE
)
# Names that follow whichever model the vendor currently serves under them.
POINTER = re.compile(r"(?:^|[-/])(?:chat-)?latest$|^deepseek-(?:chat|reasoner)$")

Ids = dict[tuple[str, str], str | None]


@cache
def _resolved(source: str, path: Path) -> Ids:
    """(provider, provider_model_id) -> canonical slug, as the registry resolves them."""
    observations = parse_source(source, path.read_bytes(), observed_at=observed_at_for(path))
    return {
        (o.provider, o.provider_model_id): o.model for o in observations if isinstance(o, LlmPrice)
    }


def _pages() -> list[Any]:
    params: list[Any] = []
    for source in FIRST_PARTY:
        for path in fixture_files(source):
            if not isinstance(path, Path):
                params.append(pytest.param(source, None, id=f"{source}-absent", marks=path.marks))
            elif "BLOCKED" not in path.name:  # the Cloudflare challenge page has no prices
                params.append(pytest.param(source, path, id=f"{source}-{path.name}"))
    return params


def _text_ids(ids: Ids) -> Ids:
    return {k: v for k, v in ids.items() if not NOT_TEXT.search(k[1]) and not POINTER.search(k[1])}


@pytest.mark.parametrize(("source", "path"), _pages())
def test_first_party_text_models_resolve(source: str, path: Path) -> None:
    text = _text_ids(_resolved(source, path))
    missing = sorted(k[1] for k, slug in text.items() if slug is None)
    rate = 1 - len(missing) / len(text)
    assert text, "no text-model ids read from the page"
    assert rate >= 0.9, f"{source}/{path.name}: {rate:.0%} resolved, missing {missing}"


@pytest.mark.parametrize(("source", "path"), _pages())
def test_first_party_non_text_and_pointer_ids_stay_unresolved(source: str, path: Path) -> None:
    ids = _resolved(source, path)
    others = {k: v for k, v in ids.items() if k not in _text_ids(ids)}
    assert {k[1]: v for k, v in others.items() if v is not None} == {}


def test_mistral_page_leaves_only_its_latest_pointers_unresolved() -> None:
    # The page keys most cards by their "-latest" endpoint, which moves with each release:
    # those cannot be pinned to one model, every other text id resolves.
    path = require_shared(FIXTURES / "mistral" / "mistral_ai_pricing_2026-05-08.html")
    text = _text_ids(_resolved("mistral", path))
    pointers = {k: v for k, v in _resolved("mistral", path).items() if POINTER.search(k[1])}
    assert text, text
    assert all(text.values()), text
    assert pointers, pointers
    assert not any(pointers.values()), pointers
    assert ("mistral", "mistral-large-latest") in pointers


# Short names for the recorded files the samples below are read from.
FILES = {
    "gemini-06": ("google", "gemini_pricing_jina_md_2026-06-05.md"),
    "gemini-05": ("google", "gemini_pricing_jina_md_2026-05-07.md"),
    "vertex": ("google", "cloud_google_com_vertex_generative-ai_pricing_2026-05-08.html"),
    "openai": ("openai", "platform_openai_com_docs_pricing_jina_md_2026-05-08.md"),
    "claude-docs-11": ("anthropic", "docs_about-claude_pricing_2025-11-20.md"),
    "claude-docs-10": ("anthropic", "docs_about-claude_pricing_2025-10-20.md"),
    "cerebras": ("cerebras", "cerebras_ai_pricing_2026-05-08.html"),
    "mistral": ("mistral", "mistral_ai_pricing_2026-05-08.html"),
    "xai": ("xai", "docs_x_ai_docs_models_jina_md_2026-05-08.md"),
    "deepseek": ("deepseek", "api-docs_quick_start_pricing_2026-05-08.html"),
    "or-2601": ("openrouter", "api_v1_models_wrapped_2026-01-25.json"),
    "or-2607": ("openrouter", "api_v1_models_data_2026-07-29.json"),
    "or-2608": ("openrouter", "api_v1_models_data_2026-08-03.json"),
    "litellm-2502": ("litellm", "model_prices_and_context_window_2025-02-14.json"),
    "litellm-2604": ("litellm", "model_prices_and_context_window_2026-04-14.json"),
}

# (file, provider, id on that page, canonical slug)
SAMPLES = [
    ("gemini-06", "google", "gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
    ("gemini-06", "google", "gemini-robotics-er-1.6-preview", "gemini-robotics-er-1.6"),
    ("gemini-06", "google", "gemini-3.1-pro-preview-customtools", "gemini-3.1-pro-customtools"),
    ("gemini-05", "google", "gemini-2.5-computer-use-preview-10-2025", "gemini-2.5-computer-use"),
    ("vertex", "google-vertex", "claude-opus-4.7", "claude-opus-4.7"),
    ("vertex", "google-vertex", "grok-4.20-non-reasoning", "grok-4.20"),
    ("vertex", "google-vertex", "grok-4.1-fast-reasoning", "grok-4.1-fast"),
    ("vertex", "google-vertex", "mistral-small-3.1-25.03", "mistral-small-3.1"),
    ("vertex", "google-vertex", "codestral-2", "codestral-2508"),
    ("vertex", "google-vertex", "gemma-4-26b", "gemma-4-26b-a4b-it"),
    ("vertex", "google-vertex", "gemini-2.5-pro-computer-use-preview", "gemini-2.5-computer-use"),
    ("openai", "openai", "o3-deep-research", "o3-deep-research"),
    ("openai", "openai", "o4-mini-deep-research", "o4-mini-deep-research"),
    ("openai", "openai", "computer-use-preview", "computer-use-preview"),
    ("claude-docs-11", "anthropic", "claude-sonnet-3-7", "claude-3.7-sonnet"),
    ("claude-docs-11", "anthropic", "claude-haiku-3-5", "claude-3.5-haiku"),
    ("claude-docs-10", "anthropic", "claude-sonnet-3-5", "claude-3.5-sonnet"),
    ("claude-docs-10", "anthropic", "claude-haiku-4-5", "claude-haiku-4.5"),
    ("cerebras", "cerebras", "zai-glm-4.7", "glm-4.7"),
    ("cerebras", "cerebras", "llama-3.1-8b", "llama-3.1-8b-instruct"),
    ("cerebras", "cerebras", "qwen-3-235b-instruct", "qwen3-235b-a22b-instruct-2507"),
    ("mistral", "mistral", "labs-leanstral-2603", "leanstral"),
    ("mistral", "mistral", "open-mistral-nemo", "mistral-nemo"),
    ("xai", "xai", "grok-4-1-fast-non-reasoning", "grok-4.1-fast"),
    ("deepseek", "deepseek", "deepseek-v4-pro", "deepseek-v4-pro"),
    ("or-2608", "openrouter", "perplexity/sonar-pro", "sonar-pro"),
    ("or-2607", "openrouter", "openai/o3-deep-research", "o3-deep-research"),
    ("or-2601", "openrouter", "tngtech/deepseek-r1t2-chimera:free", "deepseek-r1t2-chimera"),
    ("litellm-2604", "databricks", "databricks/databricks-claude-3-7-sonnet", "claude-3.7-sonnet"),
    ("litellm-2604", "oci", "oci/xai.grok-4", "grok-4"),
    ("litellm-2604", "bedrock_converse", "deepseek.v3-v1:0", "deepseek-v3.1"),
    ("litellm-2604", "bedrock", "anthropic.claude-instant-v1", "claude-instant-1.2"),
    (
        "litellm-2604",
        "vertex_ai-qwen_models",
        "vertex_ai/qwen/qwen3-next-80b-a3b-thinking-maas",
        "qwen3-next-80b-a3b-thinking",
    ),
    ("litellm-2604", "anyscale", "anyscale/meta-llama/Llama-2-70b-chat-hf", "llama-2-70b-chat"),
]


def _ids_in(file: str) -> Ids:
    source, name = FILES[file]
    return _resolved(source, require_shared(FIXTURES / source / name))


@pytest.mark.parametrize(("file", "provider", "model_id", "slug"), SAMPLES, ids=lambda v: str(v))
def test_resolves_ids_read_from_the_recorded_pages(
    file: str, provider: str, model_id: str, slug: str
) -> None:
    ids = _ids_in(file)
    assert (provider, model_id) in ids, f"{model_id} is not on {FILES[file][1]}"
    assert ids[(provider, model_id)] == slug


@pytest.mark.parametrize(
    ("file", "provider", "model_id"),
    [
        # OpenRouter followed Anthropic's moving claude-instant-1 pointer; Bedrock pinned 1.2.
        ("litellm-2502", "openrouter", "openrouter/anthropic/claude-instant-v1"),
        ("litellm-2502", "anthropic", "claude-instant-1"),
        # Vertex serves Llama 3.1 under llama3-*-maas; the spelling would match Llama 3.
        ("litellm-2604", "vertex_ai-llama_models", "vertex_ai/meta/llama3-70b-instruct-maas"),
        # There is no Claude Sonnet 4.1: the host prefix comes off, the rest matches nothing.
        ("litellm-2604", "databricks", "databricks/databricks-claude-sonnet-4-1"),
        ("openai", "openai", "chat-latest"),
        ("gemini-06", "google", "gemini-3.1-flash-image"),
    ],
    ids=lambda v: str(v),
)
def test_leaves_pointers_and_uncertain_ids_on_the_pages_unresolved(
    file: str, provider: str, model_id: str
) -> None:
    ids = _ids_in(file)
    assert (provider, model_id) in ids, f"{model_id} is not on {FILES[file][1]}"
    assert ids[(provider, model_id)] is None


def test_most_chat_ids_of_the_latest_litellm_capture_resolve() -> None:
    path = require_shared(FIXTURES / "litellm" / "model_prices_and_context_window_2026-04-14.json")
    ids = {k: v for k, v in _resolved("litellm", path).items() if not NOT_TEXT.search(k[1])}
    rate = sum(v is not None for v in ids.values()) / len(ids)
    # The rest are moving pointers, base checkpoints, fine-tune prices, price bands,
    # local quantisations and retired niche models.
    assert rate >= 0.75
