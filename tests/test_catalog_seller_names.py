"""Resolution of the new sellers' ids: general display-name rules first, scoped aliases after."""

from __future__ import annotations

import pytest

from costcurve.catalog import resolve_model


@pytest.mark.parametrize(
    ("provider", "name", "slug"),
    [
        ("aws-bedrock", "Llama 3.3 Instruct (70B)", "llama-3.3-70b-instruct"),
        ("aws-bedrock", "Llama 3.1 Instruct (405B)", "llama-3.1-405b-instruct"),
        ("aws-bedrock", "Llama 2 Chat (13B)", "llama-2-13b-chat"),
        ("aws-bedrock", "Amazon Nova Pro", "nova-pro"),
        ("aws-bedrock", "Claude Sonnet 4.6", "claude-sonnet-4.6"),
        ("aws-bedrock", "DeepSeek v3.2", "deepseek-v3.2"),
        ("any-host", "Amazon Nova Premier", "nova-premier"),  # a rule, not an alias
    ],
)
def test_display_names_resolve_by_the_general_rules(provider: str, name: str, slug: str) -> None:
    assert resolve_model(provider, name) == slug


@pytest.mark.parametrize(
    ("provider", "name", "slug"),
    [
        ("azure", "gpt-4o-0806", "gpt-4o"),
        ("azure", "gpt-5-rsng", "gpt-5"),
        ("azure", "r1", "deepseek-r1"),
        ("aws-bedrock", "NVIDIA Nemotron Nano 2", "nemotron-nano-9b-v2"),
        ("groq", "Mixtral, 8x7B SMoE", "mixtral-8x7b-instruct"),
    ],
)
def test_seller_spellings_resolve_only_for_their_seller(
    provider: str, name: str, slug: str
) -> None:
    assert resolve_model(provider, name) == slug
    assert resolve_model("some-other-host", name) is None


@pytest.mark.parametrize("name", ["Pixtral Large (25.02)", "Gemma 4 E2B", "gpt-35-turbo-4k"])
def test_ambiguous_or_uncatalogued_names_stay_unresolved(name: str) -> None:
    assert resolve_model("aws-bedrock", name) is None
    assert resolve_model("azure", name) is None
