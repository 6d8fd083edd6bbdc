"""Alert channels: Apprise URLs, checked so alerts cannot be aimed at internal hosts.

Only services whose destination we can reason about are accepted: hosted
services with a fixed endpoint (Slack, Discord, Telegram) and services that
post to a host named in the URL (generic JSON/XML/form webhooks, e-mail via
SMTP, ntfy, Gotify, Mattermost, Teams via Power Automate workflows). For the
latter every address the host resolves to must be a public one, unless
``COSTCURVE_ALERTS_ALLOW_PRIVATE_TARGETS`` is set. Delivery repeats the check
(a DNS answer can change after the rule is created) and never follows redirects.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

# Apprise plugin class -> attributes naming the host it connects to. An empty tuple: a
# hosted service whose endpoint is fixed by Apprise, whatever the URL says.
_SERVICES: dict[str, tuple[str, ...]] = {
    "NotifyJSON": ("host",),
    "NotifyXML": ("host",),
    "NotifyForm": ("host",),
    "NotifyEmail": ("smtp_host",),
    "NotifyNtfy": ("host",),
    "NotifyGotify": ("host",),
    "NotifyMattermost": ("host",),
    # Microsoft Teams through a Power Automate workflow URL (Apprise dropped msteams://).
    "NotifyWorkflows": ("host",),
    "NotifySlack": (),
    "NotifyDiscord": (),
    "NotifyTelegram": (),
}
SUPPORTED_SCHEMES = (
    "json://, jsons://, xml://, xmls://, form://, forms://, mailto://, mailtos://, "
    "ntfy://, ntfys://, gotify://, gotifys://, mmost://, mmosts://, workflows:// (Teams), "
    "slack://, discord://, tgram:// (or Slack's and Discord's own https webhook URLs)"
)
# Schemes whose host part is a destination (shown when masking), not a token.
_HOST_SCHEMES = {
    "json",
    "jsons",
    "xml",
    "xmls",
    "form",
    "forms",
    "gotify",
    "gotifys",
    "mmost",
    "mmosts",
    "workflow",
    "workflows",
    "http",
    "https",
}
PRIVATE_SETTING = "COSTCURVE_ALERTS_ALLOW_PRIVATE_TARGETS"


class ChannelError(ValueError):
    """The channel URL is unusable or points somewhere alerts may not go."""


def instantiate(channel: str) -> Any:
    import apprise

    # Never follow redirects: a public webhook could redirect to an internal address.
    plugin = apprise.Apprise.instantiate(channel, asset=apprise.AppriseAsset(http_redirects=False))
    if plugin is not None:
        plugin.redirects = False
    return plugin


def _hosts(plugin: Any) -> list[tuple[str, int | None]]:
    name = type(plugin).__name__
    if name == "NotifyNtfy" and getattr(plugin, "mode", None) == "cloud":
        return []  # ntfy.sh itself, whatever the topic
    hosts = []
    for attr in _SERVICES[name]:
        host = getattr(plugin, attr, None)
        if host:
            port = getattr(plugin, "port", None) if attr == "host" else None
            hosts.append((str(host), port if isinstance(port, int) else None))
    if _SERVICES[name] and not hosts:
        raise ChannelError("the channel URL names no host to deliver to")
    return hosts


def _address_problem(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for label, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return label
    return None if ip.is_global else "non-public"


def check_host(host: str, port: int | None) -> None:
    """Refuse a host unless every address it resolves to is public."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise ChannelError(f"host {host!r} does not resolve ({exc})") from None
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        problem = _address_problem(address)
        if problem:
            raise ChannelError(
                f"host {host!r} resolves to {address}, a {problem} address; alerts may not "
                f"reach private, loopback or link-local addresses (set {PRIVATE_SETTING}=true "
                "to allow it, e.g. for tests)"
            )


def check_channel(channel: str, *, allow_private: bool) -> Any:
    """Validate an Apprise URL and where it delivers; returns the Apprise plugin."""
    channel = channel.strip()
    if "://" not in channel:
        raise ChannelError(
            f"channel must be an Apprise URL such as jsons://host/path; supported: "
            f"{SUPPORTED_SCHEMES}"
        )
    plugin = instantiate(channel)
    if plugin is None:
        scheme = channel.split("://", 1)[0]
        raise ChannelError(
            f"Apprise cannot use this {scheme}:// URL (unknown service or missing parts); "
            f"supported: {SUPPORTED_SCHEMES}"
        )
    if type(plugin).__name__ not in _SERVICES:
        raise ChannelError(
            f"{plugin.service_name} is not a supported alert channel; supported: "
            f"{SUPPORTED_SCHEMES}"
        )
    if not allow_private:
        for host, port in _hosts(plugin):
            check_host(host, port)
    return plugin


def mask_channel(channel: str) -> str:
    """The channel with every part that may be a secret replaced by ``****``.

    Webhook paths, query strings, user names, passwords and tokens are all
    masked; only the scheme and, for host-addressed services, the host remain.
    """
    scheme = channel.strip().split("://", 1)[0].lower() if "://" in channel else ""
    if not scheme.isascii() or not scheme.isalnum():
        return "****"
    try:
        parts = urlsplit(channel.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:  # e.g. a token where a port would be (tgram://123:abc/...)
        return f"{scheme}://****"
    if scheme in {"mailto", "mailtos"} and host:
        return f"{scheme}://****@{host}"
    if scheme not in _HOST_SCHEMES or not host:
        return f"{scheme}://****"
    shown = f"[{host}]" if ":" in host else host
    if port:
        shown += f":{port}"
    user = "****@" if parts.username or parts.password else ""
    rest = "/****" if parts.path.strip("/") or parts.query or parts.fragment else "/"
    return f"{scheme}://{user}{shown}{rest}"


def redact(text: str | None, channel: str) -> str | None:
    """``text`` (an error message) without any secret part of ``channel`` in it."""
    if text is None:
        return None
    secrets = {channel.strip()}
    try:
        parts = urlsplit(channel.strip())
        secrets |= {parts.path, parts.query, parts.username or "", parts.password or ""}
        secrets |= {seg for seg in parts.path.split("/") if len(seg) >= 6}
        if parts.scheme.lower() not in _HOST_SCHEMES:
            secrets.add(parts.netloc)
    except ValueError:
        pass
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "****")
    return text
