"""A tiny dense model made locally, for running real vLLM without any download.

``write_tiny_model(directory)`` writes a ``config.json`` (a 2-layer
``LlamaForCausalLM`` of hidden size 128; head_dim 64 because vLLM's CPU
attention kernels refuse 16: "Unsupported CPU attention configuration") and a word-level tokenizer
(``tokenizer.json`` + ``tokenizer_config.json``) whose vocabulary is the load
generator's prompt words, so one prompt word is one token and the prompt
lengths the load generator asks for are the lengths vLLM sees. With
``vllm serve DIR --load-format dummy`` the weights are random: the run checks
the engine, its flags and the whole serve-and-run path end to end; its speed
says nothing about any real model (results are marked dummy and synthetic).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from costcurve.benchmarks.loadgen import PROMPT_WORDS

SPECIAL_TOKENS = ("<unk>", "<s>", "</s>")
MAX_POSITIONS = 4096


def tiny_config(vocab_size: int) -> dict[str, Any]:
    """config.json of a 2-layer Llama: small enough for a 2-core CPU."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 128,
        "intermediate_size": 256,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 64,
        "num_hidden_layers": 2,
        "hidden_act": "silu",
        "max_position_embeddings": MAX_POSITIONS,
        "rms_norm_eps": 1e-05,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "vocab_size": vocab_size,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "attention_bias": False,
        "mlp_bias": False,
        "use_cache": True,
    }


def tokenizer_json(words: tuple[str, ...]) -> dict[str, Any]:
    """A Hugging Face ``tokenizers`` WordLevel tokenizer, split on whitespace."""
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    for word in words:
        vocab.setdefault(word, len(vocab))
    added = [
        {
            "id": vocab[t],
            "content": t,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for t in SPECIAL_TOKENS
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": None,
        # No decoder: tokenizers joins word-level tokens with spaces.
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"},
    }


def write_tiny_model(directory: Path) -> Path:
    """Write config.json and the tokenizer into ``directory``; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    tok = tokenizer_json(PROMPT_WORDS)
    vocab_size = len(tok["model"]["vocab"])
    (directory / "tokenizer.json").write_text(json.dumps(tok))
    (directory / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "unk_token": "<unk>",
                "bos_token": "<s>",
                "eos_token": "</s>",
                "model_max_length": MAX_POSITIONS,
                "clean_up_tokenization_spaces": False,
            }
        )
    )
    (directory / "config.json").write_text(json.dumps(tiny_config(vocab_size), indent=2))
    return directory
