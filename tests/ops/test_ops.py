"""The operator endpoints: /-/health, /-/ready and /-/metrics, through the real middleware."""

import asyncio
import json
import time

from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from signproxy.ops.readiness import READINESS, Exchange
from signproxy.ops.routes import UPSTREAM_HEALTH
from tests.conftest import Harness, start_raw_server
from tests.support.keys import ALL_SECRETS
from tests.support.logs import log_lines

ORDER = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"1"}'


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(proxy: Harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    reply = await proxy.get("/-/metrics")
    assert reply.status == 200
    return samples(reply.body.decode())


def app_of(proxy: Harness) -> web.Application:
    app = proxy.proxy.app
    assert app is not None
    return app


async def test_health_answers_through_the_middleware(proxy, emulator, log_output) -> None:
    """/-/health answers 200 with a request id and its own log line, and sends nothing to OKX."""
    reply = await proxy.get("/-/health", headers={"X-Request-Id": "probe-1"})
    assert reply.status == 200
    assert reply.json() == {"status": "ok"}
    assert reply.headers["X-Request-Id"] == "probe-1"
    assert emulator.received == []
    lines = log_lines(log_output, "signproxy.request")
    assert lines[-1]["path"] == "/-/health"
    assert lines[-1]["request_id"] == "probe-1"


async def test_ops_paths_take_get_only(proxy) -> None:
    """A POST to a /-/ endpoint is refused with SPX101, not forwarded or treated as OKX's path."""
    reply = await proxy.post("/-/metrics", "{}")
    assert reply.status == 405
    assert reply.headers["X-Signproxy-Error"] == "SPX101"


async def test_unknown_ops_path_is_not_found(proxy, emulator) -> None:
    """/-/anything-else is a 404 SPX100 and never reaches OKX."""
    reply = await proxy.get("/-/nothing")
    assert reply.status == 404
    assert reply.headers["X-Signproxy-Error"] == "SPX100"
    assert emulator.received == []


async def test_ready_probes_okx_once_per_interval(proxy, emulator) -> None:
    """A fresh proxy probes GET /api/v5/public/time unsigned, then is ready without re-probing."""
    first = await proxy.get("/-/ready")
    second = await proxy.get("/-/ready")
    assert first.status == 200, first.body
    assert second.status == 200
    body = second.json()
    assert body["ready"] is True
    assert set(body["checks"]) == {"config", "clock", "upstream", "halt"}  # halt: the kill switch
    assert body["checks"]["upstream"]["ok"] is True
    assert "HTTP 200" in body["checks"]["upstream"]["detail"]
    assert "local clock" in body["checks"]["clock"]["detail"]
    (probe,) = emulator.received
    assert (probe.method, probe.target) == ("GET", "/api/v5/public/time")
    assert not any(name.lower().startswith("ok-access-") for name in probe.headers)


async def test_ready_after_traffic_needs_no_probe(proxy, emulator) -> None:
    """A proxied request counts as the upstream check: /-/ready then sends nothing to OKX."""
    await proxy.post("/api/v5/trade/order", ORDER)
    reply = await proxy.get("/-/ready")
    assert reply.status == 200
    assert [seen.target for seen in emulator.received] == ["/api/v5/trade/order"]


async def test_not_ready_when_okx_is_unreachable(make_proxy, unused_tcp_port) -> None:
    """With nothing listening upstream, /-/ready is 503 and names the upstream check."""
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{unused_tcp_port}")
    reply = await proxy.get("/-/ready")
    assert reply.status == 503
    body = reply.json()
    assert body["ready"] is False
    assert body["checks"]["upstream"]["ok"] is False
    assert "SPX300" in body["checks"]["upstream"]["detail"]
    assert body["checks"]["config"]["ok"] is True
    assert body["checks"]["clock"]["ok"] is True


async def test_failed_proxied_request_makes_the_proxy_unready(
    make_proxy, aiohttp_server, emulator
) -> None:
    """An upstream failure seen on a proxied request turns /-/ready to 503 with that error."""

    async def broken(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    proxy = await make_proxy(upstream=await start_raw_server(broken, aiohttp_server))
    assert (await proxy.get("/api/v5/account/balance")).status == 502
    reply = await proxy.get("/-/ready")
    assert reply.status == 503
    assert "SPX301" in reply.json()["checks"]["upstream"]["detail"]
    assert emulator.received == []


async def test_okx_server_error_is_not_ready(make_proxy, aiohttp_server) -> None:
    """OKX answering 503 (maintenance) means reachable but not ready."""

    async def maintenance(_request: web.Request) -> web.Response:
        return web.json_response(
            {"code": "50001", "msg": "Service temporarily unavailable"}, status=503
        )

    proxy = await make_proxy(upstream=await start_raw_server(maintenance, aiohttp_server))
    reply = await proxy.get("/-/ready")
    assert reply.status == 503
    assert "HTTP 503" in reply.json()["checks"]["upstream"]["detail"]


async def test_plugged_in_checks_decide_readiness(proxy) -> None:
    """A check added by name replaces the default; a failing or raising check makes it 503."""
    readiness = app_of(proxy)[READINESS]
    readiness.add("clock", lambda: (True, "offset -12 ms, measured"))
    reply = await proxy.get("/-/ready")
    assert reply.status == 200
    assert reply.json()["checks"]["clock"]["detail"] == "offset -12 ms, measured"

    readiness.add("clock", lambda: (False, "OKX time not measured yet"))
    reply = await proxy.get("/-/ready")
    assert reply.status == 503
    assert reply.json()["checks"]["clock"] == {"ok": False, "detail": "OKX time not measured yet"}

    def broken() -> tuple[bool, str]:
        raise RuntimeError

    readiness.add("extra", broken)
    readiness.add("clock", lambda: (True, "fine"))
    reply = await proxy.get("/-/ready")
    assert reply.status == 503
    assert reply.json()["checks"]["extra"] == {"ok": False, "detail": "check failed: RuntimeError"}


async def test_metrics_count_requests_by_route_status_and_code(proxy) -> None:
    """Requests count by method, OKX path, status and OKX/SPX code; the query is no label."""
    await proxy.post("/api/v5/trade/order", ORDER)
    await proxy.get("/api/v5/account/balance?ccy=USDT")
    await proxy.get("/api/v5/account/balance?ccy=BTC")
    await proxy.get("/api/v5/trade/order?instId=BTC-USDT&ordId=1")  # OKX: order does not exist
    await proxy.get("/not/an/api/path/12345")
    await proxy.get("/api/v5/account/balance", body="{}")  # SPX104: a body on GET
    found = await scrape(proxy)
    requests = {
        labels: value
        for (name, labels), value in found.items()
        if name == "signproxy_requests_total"
    }

    def key(method: str, route: str, status: str, code: str) -> tuple[tuple[str, str], ...]:
        return (("code", code), ("method", method), ("route", route), ("status", status))

    assert requests[key("POST", "/api/v5/trade/order", "200", "0")] == 1
    assert requests[key("GET", "/api/v5/account/balance", "200", "0")] == 2
    assert requests[key("GET", "/api/v5/account/balance", "400", "SPX104")] == 1
    assert requests[key("GET", "(other)", "404", "SPX100")] == 1
    assert any(
        labels[2] == ("route", "/api/v5/trade/order") and labels[0][1] not in ("", "0")
        for labels in requests
    )
    text = (await proxy.get("/-/metrics")).body.decode()
    assert "ccy" not in text
    assert "ordId" not in text
    assert "12345" not in text
    for secret in ALL_SECRETS:
        assert secret not in text
    assert found[("signproxy_upstream_duration_seconds_count", ())] == 4
    assert found[("signproxy_request_duration_seconds_count", ())] >= 6
    assert found[("signproxy_refused_total", (("code", "SPX100"), ("rule", "")))] == 1
    assert found[("signproxy_refused_total", (("code", "SPX104"), ("rule", "")))] == 1
    assert found[("signproxy_websocket_connections", ())] == 0


async def test_upstream_errors_are_counted_by_kind(make_proxy, unused_tcp_port) -> None:
    """A request OKX cannot be reached for counts as an upstream error of kind unreachable."""
    proxy = await make_proxy(upstream=f"http://127.0.0.1:{unused_tcp_port}")
    assert (await proxy.get("/api/v5/account/balance")).status == 502
    found = await scrape(proxy)
    assert found[("signproxy_upstream_errors_total", (("kind", "unreachable"),))] == 1
    assert ("signproxy_refused_total", (("code", "SPX300"), ("rule", ""))) not in found


async def test_in_flight_gauge_counts_waiting_requests(make_proxy, aiohttp_server) -> None:
    """While a request waits for OKX, the in-flight gauge counts it (and the scrape itself)."""
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def slow(_request: web.Request) -> web.Response:
        arrived.set()
        await asyncio.wait_for(release.wait(), 10)
        return web.json_response({"code": "0", "msg": "", "data": []})

    proxy = await make_proxy(upstream=await start_raw_server(slow, aiohttp_server))
    waiting = asyncio.create_task(proxy.get("/api/v5/account/balance"))
    await asyncio.wait_for(arrived.wait(), 10)
    during = await scrape(proxy)
    release.set()
    assert (await waiting).status == 200
    after = await scrape(proxy)
    assert during[("signproxy_requests_in_flight", ())] == 2
    assert after[("signproxy_requests_in_flight", ())] == 1


async def test_each_app_has_its_own_registry(make_proxy) -> None:
    """Two proxies in one process count their own requests only."""
    first = await make_proxy()
    second = await make_proxy()
    await first.get("/api/v5/account/balance")
    key = (
        "signproxy_requests_total",
        (("code", "0"), ("method", "GET"), ("route", "/api/v5/account/balance"), ("status", "200")),
    )
    assert (await scrape(first))[key] == 1
    assert key not in await scrape(second)


async def test_clock_offset_and_readiness_gauges(make_proxy, emulator) -> None:
    """The measured offset to OKX's clock shows on the metrics page and in /-/ready's clock check."""
    emulator.clock_offset_ms = -1250
    proxy = await make_proxy(SIGNPROXY_CLOCK_SYNC_INTERVAL="60")
    ready = await proxy.get("/-/ready")
    assert ready.status == 200
    assert "measured" in json.dumps(ready.json())
    found = await scrape(proxy)
    assert abs(found[("signproxy_clock_offset_seconds", ())] + 1.25) < 0.05
    assert found[("signproxy_clock_offset_measured", ())] == 1
    assert found[("signproxy_ready", ())] == 1
    app_of(proxy)[UPSTREAM_HEALTH].record(ok=False, detail="test")
    assert (await scrape(proxy))[("signproxy_ready", ())] == 0


async def test_unmeasured_clock_is_the_ready_fallback(proxy) -> None:
    """With clock sync off, /-/ready still answers 200 and says the local clock is in use."""
    ready = await proxy.get("/-/ready")
    assert ready.status == 200
    assert "local clock" in json.dumps(ready.json())
    assert (await scrape(proxy))[("signproxy_clock_offset_measured", ())] == 0


async def test_ready_probes_again_once_the_last_exchange_is_old(proxy, emulator) -> None:
    """When OKX was last heard from over SIGNPROXY_UPSTREAM_CHECK_INTERVAL ago, /-/ready probes."""
    health = app_of(proxy)[UPSTREAM_HEALTH]
    health.last = Exchange(ok=True, detail="old", at=time.monotonic() - 31)
    assert (await proxy.get("/-/ready")).status == 200
    assert [seen.target for seen in emulator.received] == ["/api/v5/public/time"]
    health.last = Exchange(ok=True, detail="recent", at=time.monotonic() - 29)
    assert (await proxy.get("/-/ready")).status == 200
    assert len(emulator.received) == 1


async def test_check_interval_is_configurable(make_proxy, emulator) -> None:
    """SIGNPROXY_UPSTREAM_CHECK_INTERVAL shortens how long an outcome is trusted."""
    proxy = await make_proxy(SIGNPROXY_UPSTREAM_CHECK_INTERVAL="5")
    health = app_of(proxy)[UPSTREAM_HEALTH]
    health.last = Exchange(ok=True, detail="old", at=time.monotonic() - 6)
    assert (await proxy.get("/-/ready")).status == 200
    assert len(emulator.received) == 1
