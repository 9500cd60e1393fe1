"""Which OKX REST hosts ``signproxy check`` tries a key on when OKX says it does not exist.

An API key lives in one region: a key made on my.okx.com works only on ``https://eea.okx.com``,
one made on app.okx.com only on ``https://us.okx.com``, and so on (see okx-facts.md). When the
configured host answers 50119 (no such key) or 50101 (wrong environment), the doctor signs the
same read-only call for each other host and both demo flags, and reports the combination OKX
accepts.

For tests only, ``--okx-hosts-for-tests`` maps OKX's hosts to local emulators, e.g.
``https://www.okx.com=http://127.0.0.1:8001,https://eea.okx.com=http://127.0.0.1:8002``; only
loopback ``http://`` URLs are allowed there, and with a map only the mapped hosts are probed.
It is hidden from ``--help``: a production run never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from signproxy.errors import ConfigError
from signproxy.settings.accounts import OKX_REST_HOSTS

HOSTS_OPTION = "--okx-hosts-for-tests"
# openapi.okx.com is www.okx.com under another name: probing both would say nothing new.
PROBED_HOSTS = (
    "https://www.okx.com",
    "https://eea.okx.com",
    "https://us.okx.com",
    "https://tr.okx.com",
)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class HostMap:
    """Where a request meant for each OKX host is really sent (identity unless mapped)."""

    targets: tuple[tuple[str, str], ...] = ()

    def url(self, okx_host: str) -> str:
        """The URL to send ``okx_host``'s requests to."""
        return dict(self.targets).get(okx_host, okx_host)

    def okx_host(self, upstream: str) -> str | None:
        """The OKX host an account's upstream stands for, or None (not OKX, not mapped)."""
        for okx, url in self.targets:
            if url == upstream:
                return okx
        if upstream == "https://openapi.okx.com":
            return "https://www.okx.com"
        return upstream if upstream in OKX_REST_HOSTS else None

    def probed(self) -> tuple[str, ...]:
        """The OKX hosts to try: the mapped ones in a test, else every region's host."""
        if self.targets:
            return tuple(okx for okx in PROBED_HOSTS if okx in dict(self.targets))
        return PROBED_HOSTS


def parse_host_map(text: str | None) -> HostMap:
    """Parse ``--okx-hosts-for-tests`` (``okx-host=url,...``); no text: OKX's real hosts.

    Raises:
        ConfigError: an entry that is not an OKX host mapped to a loopback ``http://`` URL.
    """
    if not text:
        return HostMap()
    targets: list[tuple[str, str]] = []
    for entry in (part.strip() for part in text.split(",") if part.strip()):
        okx, _, url = entry.partition("=")
        parts = urlsplit(url)
        if okx not in OKX_REST_HOSTS or parts.scheme != "http" or parts.hostname not in _LOOPBACK:
            raise ConfigError(
                HOSTS_OPTION, "entries are https://<okx host>=http://127.0.0.1:<port> (tests only)"
            )
        targets.append((okx, url.rstrip("/")))
    return HostMap(tuple(targets))
