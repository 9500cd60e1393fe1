"""Metrics and readiness on their own: bounded labels, refusals by rule, upstream memory."""

from prometheus_client import generate_latest

from signproxy.errors import BodyNotAllowed, InvalidJson, UpstreamTimeout
from signproxy.ops.metrics import MAX_ROUTES, OTHER, Metrics
from signproxy.ops.readiness import Readiness, UpstreamHealth, local_clock
from signproxy.proxy.record import Exchange
from signproxy.refusals import TokenMissing


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


_ERRORS = {
    "SPX200": TokenMissing("no token", rule="max_notional"),
    "SPX107": InvalidJson("bad json"),
    "SPX302": UpstreamTimeout("OKX did not answer in time"),
    "SPX104": BodyNotAllowed("body on GET"),
}


def record(**fields) -> Exchange:
    """A finished request's record, from log-line-like fields."""
    error = fields.pop("error", None)
    fields.pop("reason", None)
    path = fields.pop("path", "/")
    exchange = Exchange("r1", fields.pop("method", "GET"), path, path=path)
    exchange.status = fields.pop("status", 200)
    exchange.total_ms = fields.pop("total_ms", 1.0)
    exchange.error = None if error is None else _ERRORS[error]
    for name, value in fields.items():
        setattr(exchange, name, value)
    return exchange


def finished(metrics: Metrics, **fields) -> None:
    metrics.request_started()
    metrics.request_finished(record(**fields))


def test_route_labels_are_capped() -> None:
    """Past MAX_ROUTES distinct API paths, new ones count as (other): bounded labels."""
    metrics = Metrics()
    for number in range(MAX_ROUTES + 20):
        finished(metrics, path=f"/api/v5/made/up{number}", okx_code="0")
    text = generate_latest(metrics.registry).decode()
    routes = {
        line.split('route="')[1].split('"')[0]
        for line in text.splitlines()
        if line.startswith("signproxy_requests_total{")
    }
    assert len(routes) == MAX_ROUTES + 1
    assert (
        value(
            metrics, "signproxy_requests_total", method="GET", route=OTHER, status="200", code="0"
        )
        == 20
    )
    assert metrics.in_flight == 0


def test_unusual_methods_and_codes_collapse() -> None:
    """An unknown method, a non-numeric OKX code and a non-API path each become (other)."""
    metrics = Metrics()
    finished(metrics, method="PROPFIND", path="/api/v5/account/balance", okx_code="x<y>")
    finished(metrics, path="/wp-admin/login.php?user=1")
    assert (
        value(
            metrics,
            "signproxy_requests_total",
            method=OTHER,
            route=OTHER,  # OKX never confirmed the path with a success envelope
            status="200",
            code=OTHER,
        )
        == 1
    )
    assert (
        value(metrics, "signproxy_requests_total", method="GET", route=OTHER, status="200", code="")
        == 1
    )


def test_refusals_are_counted_by_code_and_rule() -> None:
    """A proxy-made 4xx counts as refused, with the rule field a policy puts in the log line."""
    metrics = Metrics()
    finished(metrics, path="/api/v5/trade/order", status=403, error="SPX200", rule="max_notional")
    finished(metrics, path="/api/v5/trade/order", status=400, error="SPX107", reason="bad json")
    finished(metrics, path="/api/v5/trade/order", status=504, error="SPX302", reason="slow")
    assert value(metrics, "signproxy_refused_total", code="SPX200", rule="max_notional") == 1
    assert value(metrics, "signproxy_refused_total", code="SPX107", rule="") == 1
    assert value(metrics, "signproxy_refused_total", code="SPX302", rule="") is None
    assert value(metrics, "signproxy_upstream_errors_total", kind="timeout") == 1


def test_upstream_health_remembers_the_last_exchange() -> None:
    """The upstream check follows the last outcome: none, an OKX answer, a failure, a 5xx."""
    now = [100.0]
    health = UpstreamHealth(now=lambda: now[0])
    assert health.check() == (False, "not checked yet")
    assert health.age() is None
    health.observe(record(status=200, upstream_ms=3.0))
    now[0] += 7
    assert health.check() == (True, "OKX answered HTTP 200 7 s ago")
    assert health.age() == 7
    health.observe(record(status=504, error="SPX302", reason="OKX did not answer in time"))
    assert health.check() == (False, "SPX302: OKX did not answer in time 0 s ago")
    health.observe(record(status=400, error="SPX104", reason="body on GET"))  # not upstream
    assert health.check()[0] is False
    health.observe(record(status=503, upstream_ms=1.0))
    assert health.check() == (False, "OKX answered HTTP 503 0 s ago")


def test_readiness_is_all_checks() -> None:
    """Readiness is ready only when every named check is, and reports each one."""
    readiness = Readiness()
    assert readiness.evaluate() == (True, {})
    readiness.add("clock", local_clock)
    readiness.add("upstream", lambda: (False, "down"))
    ready, results = readiness.evaluate()
    assert ready is False
    assert results["upstream"] == (False, "down")
    assert results["clock"][0] is True
    readiness.add("upstream", lambda: (True, "up"))
    assert readiness.is_ready()
