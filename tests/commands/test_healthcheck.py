"""`signproxy health`: the container health check asks a running proxy's /-/health."""

import pytest
from aiohttp import web

from signproxy.commands.health import health_url
from tests.support.processes import cli_env, run


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8787/-/health"),
        ({"SIGNPROXY_HOST": "0.0.0.0", "SIGNPROXY_PORT": "9000"}, "http://127.0.0.1:9000/-/health"),
        ({"SIGNPROXY_HOST": "::"}, "http://[::1]:8787/-/health"),
        ({"SIGNPROXY_HOST": "10.1.2.3"}, "http://10.1.2.3:8787/-/health"),
    ],
)
def test_health_url_follows_the_serve_settings(env, expected) -> None:
    """The check asks where `serve` listens; a wildcard address is asked on loopback."""
    assert health_url(env) == expected


async def run_health(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    return await run("health", *args, env=cli_env(**(env or {})))


async def test_health_exits_0_for_a_running_proxy(proxy) -> None:
    """Against a serving proxy, found through SIGNPROXY_PORT, `signproxy health` exits 0."""
    port = proxy.proxy.port
    assert port is not None
    status, output = await run_health(
        env={"SIGNPROXY_HOST": "0.0.0.0", "SIGNPROXY_PORT": str(port)}
    )
    assert status == 0, output
    assert f"healthy: http://127.0.0.1:{port}/-/health" in output


async def test_health_exits_1_when_nothing_listens(unused_tcp_port) -> None:
    """With no proxy on the port, `signproxy health` exits 1 and says why."""
    status, output = await run_health("--port", str(unused_tcp_port))
    assert status == 1
    assert "unhealthy" in output


async def test_health_exits_1_on_an_error_answer(proxy) -> None:
    """An answer other than 200 (here a 404 from a wrong path) is unhealthy."""
    status, output = await run_health("--url", proxy.base + "/-/nothing")
    assert status == 1
    assert "HTTP 404" in output


async def test_ready_probe_sends_the_configured_token(make_proxy, tmp_path) -> None:
    """With client tokens, `signproxy health --url .../-/ready` sends the first token (from the file) and passes; without it, 401."""
    token = "tok-health-0123456789abcdefgh"
    proxy = await make_proxy(SIGNPROXY_CLIENT_TOKENS=f"probe:{token}")
    url = proxy.base + "/-/ready"
    status, output = await run_health("--url", url)
    assert (status, "HTTP 401" in output) == (1, True)
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(f"# the probe uses the first entry\nprobe:{token}\n")
    status, output = await run_health(
        "--url", url, env={"SIGNPROXY_CLIENT_TOKENS_FILE": str(tokens_file)}
    )
    assert status == 0, output
    assert token not in output


async def test_health_ignores_proxies_sends_no_token_to_health_and_follows_no_redirect(
    aiohttp_server,
) -> None:
    """HTTP_PROXY is not used (it would see the token), /-/health gets no token, a redirect is not followed."""
    seen: list[tuple[str, str | None]] = []

    async def record(request):
        seen.append((request.path_qs, request.headers.get("Authorization")))
        if request.path == "/-/moved":
            raise web.HTTPFound("http://127.0.0.1:9/elsewhere")
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    target = await aiohttp_server(app)
    trap = await aiohttp_server(app)  # stands for an HTTP proxy from the environment
    token = "tok-health-0123456789abcdefgh"
    env = {
        "HTTP_PROXY": str(trap.make_url("")),
        "http_proxy": str(trap.make_url("")),
        "SIGNPROXY_CLIENT_TOKENS": f"probe:{token}",
    }
    status, _ = await run_health("--url", str(target.make_url("/-/health")), env=env)
    assert status == 0
    status, _ = await run_health("--url", str(target.make_url("/-/ready")), env=env)
    assert status == 0
    status, output = await run_health("--url", str(target.make_url("/-/moved")), env=env)
    assert (status, "HTTP 302" in output) == (1, True)
    assert seen == [
        ("/-/health", None),
        ("/-/ready", f"Bearer {token}"),
        ("/-/moved", f"Bearer {token}"),
    ]
