"""Alert rule validation, channel checks (SSRF) and masking; no database needed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from costcurve.alerts.channels import ChannelError, check_channel, mask_channel, redact
from costcurve.alerts.rules import AlertRuleCreate, is_past, rule_state

LLAMA = "llama-3.3-70b-instruct"
PUBLIC_HOOK = "jsons://93.184.215.14/hooks/s3cr3t-t0ken-abc"


def rule(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "H100 under $2",
        "target": {"type": "gpu", "gpu": "H100-SXM-80GB", "pricing": "on_demand"},
        "metric": "usd_per_gpu_hour",
        "threshold": "2",
        "channel": PUBLIC_HOOK,
    }
    return body | overrides


def errors_of(body: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        AlertRuleCreate.model_validate(body)
    return "\n".join(
        ".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in info.value.errors()
    )


def test_rule_defaults_to_below_and_keeps_exact_decimal_threshold() -> None:
    parsed = AlertRuleCreate.model_validate(rule(threshold=1.99))
    assert parsed.direction == "below"
    assert parsed.threshold == Decimal("1.99")
    assert parsed.target.model_dump() == {
        "type": "gpu",
        "gpu": "H100-SXM-80GB",
        "pricing": "on_demand",
        "provider": None,
    }


@pytest.mark.parametrize(
    "target",
    [
        {"type": "model", "model": LLAMA, "provider": None},
        {"type": "model", "model": LLAMA, "provider": "DeepInfra"},
        {"type": "tier", "tier": "frontier"},
    ],
)
@pytest.mark.parametrize("metric", ["input", "output", "blended"])
def test_token_targets_accept_token_metrics(target: dict[str, Any], metric: str) -> None:
    parsed = AlertRuleCreate.model_validate(rule(target=target, metric=metric))
    assert parsed.metric == metric
    if target.get("provider"):
        assert parsed.target.provider == "deepinfra"  # type: ignore[union-attr]


def test_gpu_and_model_spellings_are_normalised_to_canonical_names() -> None:
    parsed = AlertRuleCreate.model_validate(
        rule(
            target={
                "type": "self_hosted",
                "model": "meta-llama/llama-3.3-70b-instruct",
                "gpu": "H100 SXM",
            },
            metric="output",
        )
    )
    assert parsed.target.model_dump() == {
        "type": "self_hosted",
        "model": LLAMA,
        "gpu": "H100-SXM-80GB",
    }


def test_unknown_model_is_refused_with_a_message_naming_it() -> None:
    message = errors_of(rule(target={"type": "model", "model": "gpt-9-ultra"}, metric="output"))
    assert "target.model.model" in message
    assert "unknown model 'gpt-9-ultra'" in message


def test_unknown_gpu_is_refused_with_a_message_naming_it() -> None:
    message = errors_of(rule(target={"type": "gpu", "gpu": "H900-SXM-1TB"}))
    assert "unknown GPU 'H900-SXM-1TB'" in message


def test_negative_threshold_is_refused() -> None:
    assert "threshold: Input should be greater than or equal to 0" in errors_of(
        rule(threshold="-0.5")
    )


@pytest.mark.parametrize(
    ("target", "metric", "expected"),
    [
        ({"type": "gpu", "gpu": "H100-SXM-80GB"}, "output", "use usd_per_gpu_hour"),
        ({"type": "tier", "tier": "frontier"}, "usd_per_gpu_hour", "use input, output, blended"),
        ({"type": "self_hosted", "model": LLAMA, "gpu": "L40S-48GB"}, "input", "use output"),
    ],
)
def test_metric_must_fit_the_target(target: dict[str, Any], metric: str, expected: str) -> None:
    message = errors_of(rule(target=target, metric=metric))
    assert f"metric: Value error, metric {metric!r} is not valid" in message
    assert expected in message


def test_unknown_tier_direction_and_target_type_are_refused() -> None:
    assert "target.tier.tier" in errors_of(rule(target={"type": "tier", "tier": "legendary"}))
    assert "direction" in errors_of(rule(direction="sideways"))
    assert "target" in errors_of(rule(target={"type": "planet", "name": "mars"}))
    assert "target.gpu.colour" in errors_of(
        rule(target={"type": "gpu", "gpu": "L4-24GB", "colour": "green"})
    )


@pytest.mark.parametrize(
    "channel",
    [
        "json://127.0.0.1:8080/hook",
        "json://localhost/hook",
        "jsons://10.0.0.5/hook",
        "json://192.168.1.20/hook",
        "json://172.16.3.4/hook",
        "json://169.254.169.254/latest/meta-data",  # cloud metadata endpoint
        "json://[::1]:9000/hook",
        "json://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
        "json://[fe80::1]/hook",
        "json://0.0.0.0:5432/",
        "json://2130706433/hook",  # 127.0.0.1 written as one integer
        "json://0x7f000001/hook",  # ... and in hex
        "json://100.64.0.1/hook",  # carrier-grade NAT, not public
        "xml://10.1.2.3/hook",
        "form://10.1.2.3/hook",
        "gotify://192.168.1.2/AbCdEfGhIjKlMnO",
        "mmost://192.168.0.9/3ccdd113474722377935511fc85d3dd4",
        "workflows://10.0.0.1/abc123def/sigxyz987",  # Teams via Power Automate
        "mailtos://user:pass@example.com?smtp=10.0.0.1",
    ],
)
def test_channels_reaching_private_addresses_are_refused(channel: str) -> None:
    with pytest.raises(ChannelError, match=r"address|does not resolve"):
        check_channel(channel, allow_private=False)


def test_private_refusal_names_the_address_and_the_setting() -> None:
    with pytest.raises(ChannelError) as info:
        check_channel("json://169.254.169.254/latest", allow_private=False)
    message = str(info.value)
    assert "169.254.169.254" in message
    assert "link-local" in message
    assert "COSTCURVE_ALERTS_ALLOW_PRIVATE_TARGETS" in message


def test_private_targets_pass_when_the_setting_allows_them() -> None:
    plugin = check_channel("json://127.0.0.1:8080/hook", allow_private=True)
    assert type(plugin).__name__ == "NotifyJSON"
    assert plugin.redirects is False  # a redirect could lead anywhere


@pytest.mark.parametrize(
    "channel",
    [
        PUBLIC_HOOK,
        "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js",
        "tgram://123456789:abcdefg_hijklmnop/12315544/",
        "ntfy://my-price-alerts",
    ],
)
def test_public_webhooks_and_hosted_services_are_accepted(channel: str) -> None:
    check_channel(channel, allow_private=False)


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("not a url", "must be an Apprise URL"),
        ("ftp://example.com/file", "Apprise cannot use this ftp://"),
        ("json://", "Apprise cannot use"),
        ("pbul://o.gn5kj6nfhv736I7jC3cj3QLRiyhgl98b", "not a supported alert channel"),
    ],
)
def test_bad_or_unsupported_channel_urls_are_refused(channel: str, expected: str) -> None:
    with pytest.raises(ChannelError, match=expected):
        check_channel(channel, allow_private=True)


@pytest.mark.parametrize(
    ("channel", "masked", "secrets"),
    [
        (PUBLIC_HOOK, "jsons://93.184.215.14/****", ["s3cr3t", "hooks"]),
        (
            "json://user:pa55word@hooks.example.com:8443/in?token=abc123",
            "json://****@hooks.example.com:8443/****",
            ["user", "pa55word", "abc123"],
        ),
        (
            "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
            "slack://****",
            ["T1JJ3T3L2", "A1BRTD4JD", "TIiajk"],
        ),
        (
            "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
            "https://hooks.slack.com/****",
            ["T1JJ3T3L2", "TIiajk"],
        ),
        ("mailtos://alice:hunter2@example.com", "mailtos://****@example.com", ["alice", "hunter2"]),
        ("tgram://123456789:abcdefg_hijklmnop/12315544/", "tgram://****", ["abcdefg", "1231"]),
        ("json://127.0.0.1:8080/", "json://127.0.0.1:8080/", []),
        (
            "workflows://prod-01.westus.logic.azure.com:443/abc123def/sigxyz987",
            "workflows://prod-01.westus.logic.azure.com:443/****",
            ["abc123def", "sigxyz987"],
        ),
    ],
)
def test_mask_channel_hides_every_secret_part(
    channel: str, masked: str, secrets: list[str]
) -> None:
    assert mask_channel(channel) == masked
    for secret in secrets:
        assert secret not in mask_channel(channel)


def test_redact_removes_channel_secrets_from_error_text() -> None:
    channel = "json://user:pa55word@hooks.example.com/in/s3cr3t-path"
    text = f"failed posting to {channel}: path /in/s3cr3t-path user pa55word"
    cleaned = redact(text, channel)
    assert cleaned is not None
    assert "s3cr3t" not in cleaned
    assert "pa55word" not in cleaned
    assert redact(None, channel) is None


def test_state_and_direction_semantics_are_strict() -> None:
    assert is_past(Decimal("1.99"), Decimal("2"), "below")
    assert not is_past(Decimal("2.00"), Decimal("2"), "below")
    assert is_past(Decimal("2.01"), Decimal("2"), "above")
    assert not is_past(Decimal("2"), Decimal("2"), "above")
    assert rule_state(None, Decimal(2), "below") == "no_data"
    assert rule_state(Decimal(1), Decimal(2), "below") == "triggered"
    assert rule_state(Decimal(3), Decimal(2), "below") == "armed"
