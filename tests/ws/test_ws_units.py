"""Pure parts of the WebSocket relay: host table, settings, frame classification, policy, codes."""

import json

import pytest

from signproxy.errors import ConfigError
from signproxy.okx.hosts import derive_ws_base
from signproxy.okx.signing import Signer
from signproxy.settings.config import Settings
from signproxy.ws.closing import close_reason, code_for_client, code_for_upstream
from signproxy.ws.frames import classify, login_answer, login_frame, op_error
from signproxy.ws.policy import ORDER_OPS, allow_all, refuse_writes
from tests.support.keys import LIVE_KEY, env_for


@pytest.mark.parametrize(
    ("rest", "demo", "ws"),
    [
        ("https://www.okx.com", False, "wss://ws.okx.com:8443"),
        ("https://www.okx.com", True, "wss://wspap.okx.com:8443"),
        ("https://openapi.okx.com", False, "wss://ws.okx.com:8443"),
        ("https://eea.okx.com", False, "wss://wseea.okx.com:8443"),
        ("https://eea.okx.com", True, "wss://wseeapap.okx.com:8443"),
        ("https://us.okx.com", False, "wss://wsus.okx.com:8443"),
        ("https://us.okx.com", True, "wss://wsuspap.okx.com:8443"),
        ("http://127.0.0.1:8788", False, "ws://127.0.0.1:8788"),
        ("http://127.0.0.1:8788", True, "ws://127.0.0.1:8788"),
        ("https://tr.okx.com", False, None),
        ("https://example.com", False, None),
        ("https://www.okx.com:8443", False, None),
    ],
)
def test_ws_host_follows_rest_host_and_demo_flag(rest: str, demo, ws: str | None) -> None:
    """Each REST host maps to OKX's WebSocket host for live or demo; unconfirmed hosts map to None."""
    assert derive_ws_base(rest, demo=demo) == ws


def test_settings_derive_the_ws_upstream() -> None:
    """Without SIGNPROXY_WS_UPSTREAM the WebSocket base is derived, with the defaults for the rest."""
    settings = Settings.from_env(env_for(LIVE_KEY, "https://eea.okx.com"))
    assert settings.ws_upstream == "wss://wseea.okx.com:8443"
    assert settings.ws_auto_login is False
    assert settings.ws_max_message_bytes == 4 * 1024 * 1024
    assert settings.ws_max_connections == 100
    assert settings.warnings == ()


def test_unknown_ws_host_warns_and_disables_ws_only() -> None:
    """For tr.okx.com the settings load (REST works), with a warning naming SIGNPROXY_WS_UPSTREAM."""
    settings = Settings.from_env(env_for(LIVE_KEY, "https://tr.okx.com"))
    assert settings.ws_upstream is None
    (warning,) = settings.warnings
    assert warning.startswith("SIGNPROXY_WS_UPSTREAM:")


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("wss://ws.example.test:8443", "wss://ws.example.test:8443"),
        ("wss://ws.example.test:8443/", "wss://ws.example.test:8443"),
        ("ws://127.0.0.1:9000", "ws://127.0.0.1:9000"),
    ],
)
def test_explicit_ws_upstream_wins(value: str, normalized: str) -> None:
    """SIGNPROXY_WS_UPSTREAM replaces the derived host, normalized to scheme://host:port."""
    env = env_for(LIVE_KEY, "https://tr.okx.com", SIGNPROXY_WS_UPSTREAM=value)
    settings = Settings.from_env(env)
    assert settings.ws_upstream == normalized
    assert settings.warnings == ()


@pytest.mark.parametrize(
    "value",
    [
        "https://ws.okx.com:8443",
        "wss://",
        "wss://ws.okx.com:8443/ws/v5/private",
        "wss://u:p@ws.okx.com",
        "wss://ws.okx.com?brokerId=9999",
        "wss://ws.okx.com:99999",
    ],
)
def test_bad_ws_upstream_is_a_config_error(value: str) -> None:
    """A SIGNPROXY_WS_UPSTREAM that is not a bare ws(s):// base URL stops startup, naming the variable."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env_for(LIVE_KEY, "https://www.okx.com", SIGNPROXY_WS_UPSTREAM=value))
    assert caught.value.variable == "SIGNPROXY_WS_UPSTREAM"
    assert value not in caught.value.message or value == "wss://"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIGNPROXY_WS_AUTO_LOGIN", "maybe"),
        ("SIGNPROXY_WS_MAX_MESSAGE_BYTES", "10"),
        ("SIGNPROXY_WS_MAX_CONNECTIONS", "0"),
    ],
)
def test_bad_ws_settings_name_the_variable(name: str, value: str) -> None:
    """Invalid WebSocket settings fail at startup with an error naming the variable."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env_for(LIVE_KEY, "https://www.okx.com", **{name: value}))
    assert caught.value.variable == name


def test_login_frame_is_what_okx_verifies() -> None:
    """The signed login carries key, passphrase, a seconds timestamp string and the verify-path sign."""
    signer = Signer(LIVE_KEY.secret)
    frame = json.loads(login_frame("k", "p", "1538054050", signer.sign_ws_login("1538054050")))
    assert frame == {
        "op": "login",
        "args": [
            {
                "apiKey": "k",
                "passphrase": "p",
                "timestamp": "1538054050",
                "sign": signer.sign(b"1538054050GET/users/self/verify"),
            }
        ],
    }


@pytest.mark.parametrize(
    ("data", "op", "login", "ambiguous"),
    [
        ('{"op":"login","args":[]}', "login", True, False),
        (b'{"op":"login"}', "login", True, False),
        ('  {"op" : "subscribe"}', "subscribe", False, False),
        ('{"op":"\\u006frder"}', "order", False, False),
        ('{"op":"subscribe","op":"order"}', None, False, True),
        ('{"op":"order","args":[{"a":1,"a":2}]}', None, False, True),
        ("ping", None, False, False),
        ("not json", None, False, False),
        ('["op","order"]', None, False, False),
        ('{"op":', None, False, False),
        (b"\xff{", None, False, False),
        (b'{"op":"login\xff"}', None, False, False),
    ],
)
def test_classify_sees_frames_as_okx_will(
    data: str | bytes, op: str | None, login, ambiguous
) -> None:
    """Frames are parsed as JSON (escapes decoded); repeated keys are flagged; others are opaque."""
    frame = classify(data)
    assert frame.op == op
    assert frame.is_login is login
    assert frame.ambiguous is ambiguous


def test_op_error_echoes_id_and_op() -> None:
    """A refusal answer has OKX's op shape: id and op echoed, the code and message, empty data."""
    answer = json.loads(op_error({"id": "9", "op": "order"}, "SPX710", "no"))
    assert answer == {"id": "9", "op": "order", "code": "SPX710", "msg": "no", "data": []}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"event":"login","code":"0","msg":"","connId":"a"}', "0"),
        ('{"event":"error","code":"60009","msg":"Login failed."}', "60009"),
        ('{"event": "error", "msg": "x", "code": "60006"}', "60006"),
        ('{"event":"subscribe","arg":{}}', None),
        ('{"arg":{"channel":"orders"},"data":[]}', None),
        ("pong", None),
    ],
)
def test_login_answer_finds_the_login_result(text: str, code: str | None) -> None:
    """Only login and error events give a login result code."""
    assert login_answer(text) == code


@pytest.mark.parametrize("op", sorted(ORDER_OPS))
def test_read_only_refuses_every_order_op(op: str) -> None:
    """refuse_writes refuses each OKX order op with SPX710; allow_all lets it through."""
    frame = {"id": "1", "op": op, "args": []}
    refusal = refuse_writes(None, "private", frame)  # type: ignore[arg-type]
    assert refusal is not None
    assert refusal.code == "SPX710"
    assert allow_all(None, "private", frame) is None  # type: ignore[arg-type, func-returns-value]


@pytest.mark.parametrize(
    ("frame", "refused"),
    [
        ({"op": "login"}, False),
        ({"op": "subscribe", "args": []}, False),
        ({"op": "unsubscribe", "args": []}, False),
        ({"args": []}, False),
        ({"op": "some-future-op"}, True),
        ({"op": ["order"]}, True),
        ({"op": None}, True),
    ],
)
def test_read_only_allows_only_login_and_subscriptions(frame: dict, refused) -> None:
    """Read-only is an allow-list: login, subscribe, unsubscribe; any other op (even odd types) is refused."""
    assert (refuse_writes(None, "private", frame) is not None) is refused  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("client", "upstream"),
    [
        (1000, 1000),
        (1001, 1001),
        (4000, 4000),
        (3000, 3000),
        (1008, 1001),
        (1009, 1001),
        (None, 1001),
    ],
)
def test_client_close_codes_for_okx(client: int | None, upstream: int) -> None:
    """OKX gets the client's 1000 or 3000-4999; anything else, or a lost client, is 1001."""
    assert code_for_upstream(client) == upstream


@pytest.mark.parametrize(
    ("upstream", "client"),
    [
        (1000, 1000),
        (1001, 1001),
        (1011, 1011),
        (4004, 4004),
        (1005, 1014),
        (1006, 1014),
        (None, 1014),
        (2000, 1014),
    ],
)
def test_okx_close_codes_for_the_client(upstream: int | None, client: int) -> None:
    """The client gets OKX's sendable codes; a lost or unsendable close becomes 1014."""
    assert code_for_client(upstream) == client


def test_close_reason_fits_a_close_frame() -> None:
    """A close reason is cut to 123 bytes without splitting a UTF-8 character."""
    reason = close_reason("é" * 100)
    assert len(reason) <= 123
    reason.decode()
