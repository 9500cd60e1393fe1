"""The Redis link: readiness and metrics follow Redis, degraded episodes are logged once."""

from __future__ import annotations

import asyncio

import pytest

from signproxy.errors import ConfigError
from signproxy.proxy.app import REDIS
from signproxy.settings.config import Settings
from signproxy.settings.credentials import Secret
from signproxy.state.redis import RedisLink
from tests.support.keys import LIVE_KEY, env_for
from tests.support.logs import log_lines


async def wait_until(condition, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polling a flag another task sets
            await asyncio.sleep(0.02)


async def test_ready_shows_redis_connected(make_proxy, redis_url) -> None:
    """With a reachable Redis, /-/ready says connected and the gauge is 1."""
    harness = await make_proxy(SIGNPROXY_REDIS_URL=redis_url)
    ready = (await harness.get("/-/ready")).json()
    assert ready["checks"]["redis"]["ok"] is True
    assert ready["checks"]["redis"]["detail"].startswith("connected to redis://127.0.0.1:")
    metrics = (await harness.get("/-/metrics")).body.decode()
    assert "signproxy_redis_up 1.0" in metrics


async def test_redis_down_and_back_is_one_episode(make_proxy, redis_control, log_output) -> None:
    """Redis stopped: degraded but ready, logged once; restarted: back, logged once."""
    harness = await make_proxy(
        SIGNPROXY_REDIS_URL=f"redis://:fake-redis-password-1@127.0.0.1:{redis_control.port}/0"
    )
    link: RedisLink = harness.proxy.app[REDIS]
    assert link.available
    redis_control.stop()
    for _ in range(3):  # three failing commands: one episode
        with pytest.raises(Exception):  # noqa: B017 - whatever the client raises
            await link.client.ping()
        link.failed(ConnectionError())
    ready = (await harness.get("/-/ready")).json()
    assert ready["ready"] is True
    assert ready["checks"]["redis"]["detail"].startswith("degraded:")
    assert "signproxy_redis_up 0.0" in (await harness.get("/-/metrics")).body.decode()
    redis_control.start()
    await wait_until(lambda: link.available)
    assert len(log_lines(log_output, "signproxy.redis_unavailable")) == 1
    assert len(log_lines(log_output, "signproxy.redis_back")) == 1
    assert "fake-redis-password-1" not in log_output.getvalue()


async def test_unreachable_redis_at_start_does_not_stop_the_proxy(make_proxy, log_output) -> None:
    """A Redis that is not there at start: the proxy serves, degraded, and says so once."""
    harness = await make_proxy(SIGNPROXY_REDIS_URL="redis://127.0.0.1:1/0")
    assert (await harness.get("/api/v5/public/time")).status == 200
    assert (
        (await harness.get("/-/ready")).json()["checks"]["redis"]["detail"].startswith("degraded:")
    )
    [line] = log_lines(log_output, "signproxy.redis_unavailable")
    assert line["redis"] == "redis://127.0.0.1:1/0"


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:6379", "redis:///0", "redis://127.0.0.1:99999/0", "localhost"]
)
def test_bad_redis_urls_are_config_errors(value: str) -> None:
    """A URL that is not redis://, rediss:// or unix:// names the variable, not the value."""
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env_for(LIVE_KEY, "http://127.0.0.1:1", SIGNPROXY_REDIS_URL=value))
    assert raised.value.variable == "SIGNPROXY_REDIS_URL"
    assert value not in raised.value.message


def test_redis_password_is_redacted_and_not_displayed() -> None:
    """The password is among the redacted values and absent from the displayed URL."""
    settings = Settings.from_env(
        env_for(
            LIVE_KEY,
            "http://127.0.0.1:1",
            SIGNPROXY_REDIS_URL="redis://user:fake-redis-password-2@redis.internal:6380/2",
        )
    )
    assert "fake-redis-password-2" in settings.sensitive_values()
    assert settings.redis_url is not None
    assert RedisLink(settings.redis_url).display == "redis://redis.internal:6380/2"
    assert "fake-redis-password-2" not in repr(settings)
    assert isinstance(settings.redis_url, Secret)
