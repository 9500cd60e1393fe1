"""The WebSocket route: check, pick the account, connect to OKX, upgrade, bridge, log.

OKX is connected *before* the client's upgrade is answered, so a client never sees an open
connection that leads nowhere; if OKX cannot be reached the client is upgraded only to receive
a close frame with 1014 (bad gateway), or 1013 (try again later) when OKX answered 429, and a
reason starting with the proxy's code (``SPX300 ...``). Refusals before that (not a WebSocket
request, no WebSocket host, too many connections, a guard or account selector's own refusal)
are ordinary HTTP error answers from the middleware.

The relay owns its own client session: a WebSocket holds its connection for hours, which would
take a slot from the REST connection pool and outlive the REST session's total timeout.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
import structlog
from aiohttp import WSCloseCode, web

from signproxy.errors import MalformedTarget
from signproxy.proxy.record import EXCHANGE
from signproxy.ws.accounts import WsAccount
from signproxy.ws.bridge import Bridge
from signproxy.ws.closing import CLOSE_TIMEOUT, close_reason
from signproxy.ws.errors import NotWebSocket, TooManyWebSockets, WebSocketUnavailable
from signproxy.ws.frames import login_frame
from signproxy.ws.orders import WsOrders
from signproxy.ws.policy import allow_all

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from signproxy.proxy.outcome import Outcomes
    from signproxy.proxy.pipeline import Stage
    from signproxy.settings.config import Settings
    from signproxy.upstream.clock import Clock
    from signproxy.ws.policy import OpCheck

CHANNEL_ROUTE = "/ws/v5/{channel:(?:private|business|public)}"
HEARTBEAT_SECONDS = 20.0  # protocol-level pings on both legs find dead peers; OKX's own text
# keepalive ("ping" -> "pong") is the bot's business and is relayed untouched.
_LOGIN_CHANNELS = frozenset({"private", "business"})


class WebSocketRelay:
    """Serves ``/ws/v5/{private,business,public}``; one :class:`Bridge` per connection."""

    def __init__(  # noqa: PLR0913 - collaborators, all but settings and clock keyword-only
        self,
        settings: Settings,
        clock: Clock,
        *,
        select_account: Callable[[web.Request], WsAccount] | None = None,
        op_check: OpCheck = allow_all,
        heartbeat: float = HEARTBEAT_SECONDS,
        order_stages: Sequence[Stage] = (),
        outcomes: Outcomes | None = None,
        seen: Callable[[str], None] | None = None,
    ) -> None:
        """Take collaborators in.

        Client tokens, Host and Origin checks are the app's guard middleware's, which wraps these
        routes like every other. ``select_account`` picks the credentials (default: the one
        configured account); ``op_check`` may refuse single requests (default: allow all).
        With ``outcomes``, order ops run ``order_stages`` and their outcomes are recorded
        (:mod:`signproxy.ws.orders`). ``seen`` is told the account's name on every client frame
        (the dead-man switch).
        """
        self._seen = seen
        self._order_stages = tuple(order_stages)
        self._outcomes = outcomes
        default = WsAccount.from_settings(settings)
        self._select = select_account or (lambda _request: default)
        self._op_check = op_check
        self._clock = clock
        self._auto_login = settings.ws_auto_login
        self._max_bytes = settings.ws_max_message_bytes
        self._max_connections = settings.ws_max_connections
        self._connect_timeout = settings.connect_timeout
        self._request_timeout = settings.request_timeout
        self._heartbeat = heartbeat
        self._bridges: set[Bridge] = set()
        self._active = 0  # connections being set up or relayed
        self._session: aiohttp.ClientSession | None = None
        self._log = structlog.get_logger("signproxy")

    @property
    def active_connections(self) -> int:
        """WebSocket connections being set up or relayed now."""
        return self._active

    async def start(self) -> None:
        """Open the client session for upstream WebSockets."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=self._connect_timeout,
                sock_connect=self._connect_timeout,
                sock_read=self._request_timeout,
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
            skip_auto_headers=("User-Agent",),
        )

    async def shutdown(self, _app: web.Application | None = None) -> None:
        """Close every relayed connection with 1001 and wait for it (an ``on_shutdown`` hook)."""
        bridges = list(self._bridges)
        for bridge in bridges:
            bridge.stop()
        if bridges:
            waits = [asyncio.create_task(bridge.finished.wait()) for bridge in bridges]
            _, pending = await asyncio.wait(waits, timeout=CLOSE_TIMEOUT + 1)
            for wait in pending:
                wait.cancel()

    async def close(self) -> None:
        """Close the client session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _login_maker(self, account: WsAccount) -> Callable[[], str]:
        def signed_login() -> str:
            # Taken right before sending: OKX refuses a login more than 30 s from its clock.
            timestamp = str(self._clock.now_ms() // 1000)
            return login_frame(
                account.api_key.reveal(),
                account.passphrase.reveal(),
                timestamp,
                account.signer.sign_ws_login(timestamp),
            )

        return signed_login

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler for the three channel paths."""
        channel = request.match_info["channel"]
        request[EXCHANGE].path = request.path
        client = web.WebSocketResponse(
            autoping=True,
            heartbeat=self._heartbeat,
            max_msg_size=self._max_bytes,
            compress=False,  # the local leg gains nothing from deflate but latency
            timeout=5.0,
        )
        if not client.can_prepare(request).ok:
            raise NotWebSocket("this path speaks WebSocket only (OKX v5 private/business/public)")
        if "%" in request.raw_path.partition("?")[0]:
            # The router decodes /%61/live/ws/v5/private into /a/live/...; the account selector
            # reads the raw path, so the two would disagree. Refused, as on REST.
            raise MalformedTarget("percent-encoded characters are refused in WebSocket paths")
        account = self._select(request)
        if account.ws_base is None:
            raise WebSocketUnavailable(
                "no OKX WebSocket host is known for this upstream; set SIGNPROXY_WS_UPSTREAM"
            )
        if self._active >= self._max_connections:
            raise TooManyWebSockets(
                "too many WebSocket connections; see SIGNPROXY_WS_MAX_CONNECTIONS"
            )
        self._active += 1
        try:
            return await self._relay(request, client, account, channel)
        finally:
            self._active -= 1

    async def _relay(
        self,
        request: web.Request,
        client: web.WebSocketResponse,
        account: WsAccount,
        channel: str,
    ) -> web.StreamResponse:
        record = request[EXCHANGE]
        url = f"{account.ws_base}/ws/v5/{channel}"
        started = time.perf_counter()
        ids = {"request_id": record.request_id, "channel": channel}
        upstream, (code, reason) = await self._connect(url)
        client.headers["X-Request-Id"] = record.request_id
        try:
            await client.prepare(request)
        except BaseException:
            # The client left while OKX was being reached: OKX's side must not stay open.
            if upstream is not None:
                await upstream.close()
            raise
        if upstream is None:
            self._log.warning(
                "signproxy.ws_upstream_failed", upstream=_host(url), reason=reason, **ids
            )
            await client.close(code=code, message=close_reason(reason))
            return client
        self._log.info("signproxy.ws_open", upstream=_host(url), account=account.name, **ids)
        bridge = Bridge(
            client,
            upstream,
            request=request,
            channel=channel,
            signed_login=self._login_maker(account),
            op_check=self._op_check,
            auto_login=self._auto_login and channel in _LOGIN_CHANNELS,
            login_timeout=self._request_timeout,
            request_id=record.request_id,
            on_client_frame=None
            if self._seen is None
            else functools.partial(self._seen, account.name),
            orders=None
            if self._outcomes is None
            else WsOrders(
                self._order_stages,
                self._outcomes,
                upgrade=request,
                account_name=account.name,
                request_id=record.request_id,
                send_upstream=upstream.send_str,
                send_client=client.send_str,
            ),
        )
        self._bridges.add(bridge)
        try:
            await bridge.run()
        finally:
            self._bridges.discard(bridge)
            if not upstream.closed:  # only when cancelled before the bridge started relaying
                await upstream.close(code=WSCloseCode.GOING_AWAY)
            stats = bridge.stats
            self._log.info(
                "signproxy.ws_close",
                account=account.name,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                from_client=stats.from_client,
                to_client=stats.to_client,
                refused=stats.refused,
                logins=stats.logins,
                ended_by=stats.ended_by,
                client_code=stats.client_code,
                upstream_code=stats.upstream_code,
                **ids,
            )
        return client

    async def _connect(
        self, url: str
    ) -> tuple[aiohttp.ClientWebSocketResponse | None, tuple[int, str]]:
        if self._session is None:
            msg = "WebSocketRelay.start() was not awaited"
            raise RuntimeError(msg)
        try:
            async with asyncio.timeout(self._connect_timeout + self._request_timeout):
                upstream = await self._session.ws_connect(
                    url,
                    autoping=True,
                    heartbeat=self._heartbeat,
                    max_msg_size=self._max_bytes,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
                )
        except aiohttp.WSServerHandshakeError as exc:
            code = WSCloseCode.TRY_AGAIN_LATER if exc.status == 429 else WSCloseCode.BAD_GATEWAY  # noqa: PLR2004
            return None, (code, f"SPX300: OKX refused the WebSocket upgrade (HTTP {exc.status})")
        except TimeoutError:
            return None, (WSCloseCode.BAD_GATEWAY, "SPX302: OKX's WebSocket did not answer in time")
        except (aiohttp.ClientError, OSError) as exc:
            detail = getattr(exc, "strerror", None) or type(exc).__name__
            return None, (WSCloseCode.BAD_GATEWAY, f"SPX300: cannot connect to OKX: {detail}")
        return upstream, (0, "")


def _host(url: str) -> str:
    return urlsplit(url).netloc
