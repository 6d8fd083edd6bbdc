"""Figures for the issue-20 sellers, computed from the recorded captures.

Run: ``.venv/bin/python bench/sellers_report.py`` (reads ../shared/fixtures).

1. rows per recorded file and the share resolved to a canonical model;
2. per-host prices of open models on their latest openrouter_frontend capture
   (standard, non-free listings): cheapest and median input/output $/M;
3. hyperscaler markup over the model maker's first-party price: Bedrock
   (geo and global, headline price list) against the Anthropic and OpenAI page
   captures; Azure (global deployment, eastus) against the first-party
   reference prices in costcurve/catalog/reference_prices.csv in effect on the
   Azure capture date (the OpenAI page capture no longer lists those models).
"""

from __future__ import annotations

import statistics
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from costcurve.catalog.reference import load_reference_prices
from scrapers.base import LlmPrice
from tests.support import fixture_files, observed_at_for, parse_recorded

NEW = ["openrouter_endpoints", "openrouter_frontend", "bedrock", "azure_openai", "groq", "novita"]
OPEN = ["llama-3.3-70b-instruct", "gpt-oss-120b", "deepseek-v3.2", "deepseek-chat-v3-0324"]
BEDROCK_CLOSED = ["claude-sonnet-4.6", "claude-opus-4.6", "claude-haiku-4.5", "gpt-5.4", "gpt-5.5"]
AZURE_CLOSED = ["gpt-4.1", "gpt-4o", "o3", "gpt-5"]


def _list_price(o: LlmPrice) -> bool:
    return o.variant == "standard" and o.context_tier is None and o.modality == "text"


def resolution() -> None:
    print("## rows per file and resolution")
    for source in NEW:
        for path in fixture_files(source):
            obs = parse_recorded(source, path)
            ok = sum(o.model is not None for o in obs)
            print(f"{source}\t{path.name}\t{len(obs)} rows\t{ok / len(obs):.1%} resolved")


def _median(values: list[Decimal]) -> Decimal:
    return Decimal(statistics.median(values))


def open_models() -> None:
    print("\n## per-host prices, latest openrouter_frontend capture per model")
    latest: dict[str, tuple[date, list[LlmPrice]]] = {}
    for path in fixture_files("openrouter_frontend"):
        day = observed_at_for(path).date()
        for model in OPEN:
            hosts = [
                o
                for o in parse_recorded("openrouter_frontend", path)
                if o.model == model and _list_price(o) and not o.free
            ]
            if hosts and (model not in latest or day >= latest[model][0]):
                latest[model] = (day, hosts)
    for model, (day, hosts) in latest.items():
        ins = sorted(o.input_usd_per_mtok for o in hosts if o.input_usd_per_mtok is not None)
        outs = sorted(o.output_usd_per_mtok for o in hosts if o.output_usd_per_mtok is not None)
        cheapest = min(hosts, key=lambda o: (o.input_usd_per_mtok, o.output_usd_per_mtok))
        n_hosts = len({o.provider for o in hosts})
        price = f"{cheapest.input_usd_per_mtok}/{cheapest.output_usd_per_mtok}"
        print(
            f"{model}\t{day}\t{len(hosts)} endpoints / {n_hosts} hosts\t"
            f"cheapest {cheapest.provider} {price}\tinput min {ins[0]} median {_median(ins)}"
            f"\toutput min {outs[0]} median {_median(outs)}"
        )


def _first_party(sources: list[str]) -> dict[str, tuple[LlmPrice, str]]:
    found: dict[str, tuple[LlmPrice, str]] = {}
    for source in sources:
        for path in fixture_files(source):
            try:
                obs = parse_recorded(source, path)
            except ValueError:  # a blocked capture
                continue
            for o in obs:
                if o.model and _list_price(o) and o.provider == source:
                    found[o.model] = (o, path.name)
    return found


def _markup(seller: Decimal | None, maker: Decimal | None) -> str:
    if seller is None or maker is None or maker == 0:
        return "n/a"
    return f"{(seller / maker - 1) * 100:+.1f}%"


def bedrock_markup() -> None:
    print("\n## Bedrock markup over first-party (latest Bedrock capture)")
    path = fixture_files("bedrock")[-1]
    makers = _first_party(["anthropic", "openai"])
    obs = [o for o in parse_recorded("bedrock", path) if _list_price(o) and o.region is None]
    for model in BEDROCK_CLOSED:
        maker, maker_file = makers[model]
        for o in (o for o in obs if o.model == model):
            print(
                f"{model}\t{path.name} {o.deployment or '-'}\t{o.input_usd_per_mtok}/"
                f"{o.output_usd_per_mtok}\tvs {maker.provider} {maker.input_usd_per_mtok}/"
                f"{maker.output_usd_per_mtok} ({maker_file})\tinput "
                f"{_markup(o.input_usd_per_mtok, maker.input_usd_per_mtok)} output "
                f"{_markup(o.output_usd_per_mtok, maker.output_usd_per_mtok)}"
            )


def azure_markup() -> None:
    print("\n## Azure markup over first-party (global deployment, eastus)")
    refs = [r.price for r in load_reference_prices() if r.price.provider == "openai"]
    for path in fixture_files("azure_openai"):
        as_of = observed_at_for(path)
        obs = parse_recorded("azure_openai", path)
        for model in AZURE_CLOSED:
            mine = [
                o
                for o in obs
                if o.model == model
                and _list_price(o)
                and o.deployment == "global"
                and o.region == "eastus"
            ]
            known = [r for r in refs if r.model == model and r.variant == "standard"]
            effective = [r for r in known if (r.effective_from or r.observed_at) <= as_of]
            if not mine or not effective:
                continue
            ref = max(effective, key=lambda r: r.effective_from or r.observed_at)
            for o in mine:
                print(
                    f"{model}\t{path.name} {o.provider_model_id}\t{o.input_usd_per_mtok}/"
                    f"{o.output_usd_per_mtok}\tvs openai {ref.input_usd_per_mtok}/"
                    f"{ref.output_usd_per_mtok} (reference)\tinput "
                    f"{_markup(o.input_usd_per_mtok, ref.input_usd_per_mtok)} output "
                    f"{_markup(o.output_usd_per_mtok, ref.output_usd_per_mtok)}"
                )


def azure_deployments() -> None:
    print("\n## Azure data-zone / regional premium over global (same model, eastus)")
    for path in fixture_files("azure_openai"):
        obs = [o for o in parse_recorded("azure_openai", path) if _list_price(o)]
        by = {(o.provider_model_id, o.deployment): o for o in obs if o.region == "eastus"}
        for (model_id, deployment), o in sorted(by.items(), key=lambda kv: str(kv[0])):
            base = by.get((model_id, "global"))
            if o.model in AZURE_CLOSED and deployment != "global" and base is not None:
                print(
                    f"{model_id}\t{deployment}\t{o.input_usd_per_mtok}/{o.output_usd_per_mtok}"
                    f"\tvs global {base.input_usd_per_mtok}/{base.output_usd_per_mtok}\tinput "
                    f"{_markup(o.input_usd_per_mtok, base.input_usd_per_mtok)}"
                )


if __name__ == "__main__":
    resolution()
    open_models()
    bedrock_markup()
    azure_markup()
    azure_deployments()
