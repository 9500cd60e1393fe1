"""``signproxy health``: ask a running proxy's ``/-/health`` and exit 0 (healthy) or 1.

For container health checks: the slim base image has no curl or wget, and this reads the same
``SIGNPROXY_HOST``/``SIGNPROXY_PORT`` as ``serve``, so the check follows the proxy's address.
When client tokens are configured it sends the first one, so ``--url .../-/ready`` (which needs
a token, unlike ``/-/health``) works from the proxy's own container too. It never sends
anything to OKX.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from signproxy.errors import ConfigError
from signproxy.settings.access import TOKENS_VARIABLE
from signproxy.settings.config import DEFAULT_PORT
from signproxy.settings.tokens import parse_client_tokens
from signproxy.settings.variables import FILE_SUFFIX

if TYPE_CHECKING:
    from collections.abc import Mapping

HEALTH_PATH = "/-/health"
# A proxy listening on every address is asked on loopback, in the same family.
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


def health_url(env: Mapping[str, str], host: str | None = None, port: int | None = None) -> str:
    """The health URL of the proxy that ``serve`` would start with these settings."""
    host = host or env.get("SIGNPROXY_HOST") or "127.0.0.1"
    host = _WILDCARDS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    if port is None:
        try:
            port = int(env.get("SIGNPROXY_PORT") or DEFAULT_PORT)
        except ValueError:
            raise ConfigError("SIGNPROXY_PORT", "must be a whole number") from None
    return f"http://{host}:{port}{HEALTH_PATH}"


def probe_token(env: Mapping[str, str]) -> str | None:
    """The first configured client token (``SIGNPROXY_CLIENT_TOKENS[_FILE]``), or None."""
    text = env.get(TOKENS_VARIABLE)
    path = env.get(TOKENS_VARIABLE + FILE_SUFFIX)
    if not text and path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    if not text:
        return None
    try:
        tokens = parse_client_tokens(text, TOKENS_VARIABLE, accounts=None)
    except ConfigError:
        return None
    return tokens[0].token if tokens else None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A health check asks one address; a redirect is an answer, never followed."""

    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        """Refuse every redirect (the 3xx is then reported as the answer)."""
        return


# No environment proxy (HTTP_PROXY would otherwise see the request, and the token) and no
# redirects: the check talks to the proxy's own address only.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def check(url: str, timeout: float, token: str | None = None) -> int:
    """GET ``url``; 0 when it answers 200, else 1. Says what it saw on stdout, never the token.

    ``token`` is sent as a bearer token, except to ``/-/health``, which needs none.
    """
    if not url.startswith(("http://", "https://")):
        sys.stdout.write(f"unhealthy: not an http(s) URL: {url}\n")
        return 1
    needs_token = token and urllib.parse.urlsplit(url).path != HEALTH_PATH
    headers = {"Authorization": f"Bearer {token}"} if needs_token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - checked above
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        sys.stdout.write(f"unhealthy: {url}: {type(exc).__name__}: {exc}\n")
        return 1
    if status != 200:  # noqa: PLR2004
        sys.stdout.write(f"unhealthy: {url} answered HTTP {status}\n")
        return 1
    sys.stdout.write(f"healthy: {url}\n")
    return 0
