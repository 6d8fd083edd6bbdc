"""Which providers are a model maker's own API (first-party prices).

A listing is first-party when its provider is the catalog vendor itself,
spelled as sources spell sellers ("OpenAI" -> ``openai``, "Mistral AI" ->
``mistral``/``mistralai``, "Moonshot AI" -> ``moonshot``), or one of the
vendor's own API brands below (Google sells Gemini as ``gemini`` on LiteLLM
and ``google-vertex`` on its Cloud page).
"""

from __future__ import annotations

import re

# Vendor (lower-cased) -> its own API brands that are not its name.
_OWN_BRANDS: dict[str, tuple[str, ...]] = {
    "google": ("gemini", "google-vertex", "vertex_ai", "vertex_ai-language-models"),
    "openai": ("text-completion-openai",),
    "alibaba qwen": ("alibaba", "dashscope", "qwen"),
    "zhipu ai": ("zai", "z-ai", "zhipu"),
}


def first_party_providers(vendor: str) -> frozenset[str]:
    lowered = vendor.strip().lower()
    squashed = re.sub(r"[^a-z0-9]", "", lowered)
    words = re.findall(r"[a-z0-9]+", lowered)
    names = {squashed, words[0] if words else squashed}
    if squashed.endswith("ai") and len(squashed) > 4:
        names.add(squashed[:-2])
    return frozenset(names | set(_OWN_BRANDS.get(lowered, ())))
