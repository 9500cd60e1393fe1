"""Access settings: client tokens, hosts, origins, the loopback rule at startup, secret files."""

import json
import signal
import subprocess
from pathlib import Path

import pytest

from signproxy.errors import ConfigError
from signproxy.refusals import Refused
from signproxy.settings.config import Settings
from signproxy.settings.tokens import ClientToken, identify, parse_client_tokens
from tests.support.keys import ALL_SECRETS
from tests.support.paths import DOCS, ROOT
from tests.support.processes import SIGNPROXY, cli_env, kill_group, popen, run
from tests.support.rawhttp import send_raw_sync

BASE = {
    "OKX_API_KEY": "fake-key-acc-0001",
    "OKX_API_SECRET": "FAKE0SECRET0ACC0000000000000001",
    "OKX_API_PASSPHRASE": "fake-pass-acc",
}
TOKEN = "tok-acc-0123456789abcdefghij"
OTHER = "tok-acc-ZYXWVUTSRQPONMLKJIHG"


def test_tokens_parse_from_list_and_file_format() -> None:
    """Entries are name:token, separated by commas or newlines; '#' lines are comments."""
    text = f"# bots\nbot-a:{TOKEN}, bot.b:{OTHER}\n\n  # old: none\n"
    tokens = parse_client_tokens(text, "SIGNPROXY_CLIENT_TOKENS")
    assert [(t.name, t.token) for t in tokens] == [("bot-a", TOKEN), ("bot.b", OTHER)]
    assert TOKEN not in repr(tokens)


@pytest.mark.parametrize(
    "text",
    [
        TOKEN,
        f":{TOKEN}",
        "bot:short",
        f"bot:{TOKEN}:extra",
        f"bot:{TOKEN} x",
        f"bot a:{TOKEN}",
        f"bot:{TOKEN},bot:{OTHER}",
        f"a:{TOKEN},b:{TOKEN}",
        f"bot:{TOKEN}é",
    ],
    ids=["no-name", "empty-name", "short", "third-field", "space", "name-space", "dup-name",
         "dup-token", "non-ascii"],
)  # fmt: skip
def test_bad_token_entries_fail_without_showing_the_token(text: str) -> None:
    """A malformed entry is a ConfigError naming the variable and position, not the token."""
    with pytest.raises(ConfigError) as caught:
        parse_client_tokens(text, "SIGNPROXY_CLIENT_TOKENS")
    assert caught.value.variable == "SIGNPROXY_CLIENT_TOKENS"
    assert TOKEN not in str(caught.value)
    assert "short" not in str(caught.value)


def test_identify_finds_the_matching_token_only() -> None:
    """Only an exact match identifies a token; prefixes and extensions do not."""
    tokens = (ClientToken("a", TOKEN), ClientToken("b", OTHER))
    assert identify(OTHER, tokens) == tokens[1]
    assert identify(TOKEN, tokens) == tokens[0]
    for wrong in (TOKEN[:-1], TOKEN + "x", "", TOKEN.upper(), "\udcff" + TOKEN):
        assert identify(wrong, tokens) is None


def test_token_file_is_read_and_permissions_checked(tmp_path: Path) -> None:
    """SIGNPROXY_CLIENT_TOKENS_FILE is read; a group/other-readable file warns, naming it."""
    path = tmp_path / "tokens"
    path.write_text(f"bot:{TOKEN}\n")
    path.chmod(0o600)
    settings = Settings.from_env({**BASE, "SIGNPROXY_CLIENT_TOKENS_FILE": str(path)})
    assert [t.name for t in settings.access.client_tokens] == ["bot"]
    assert settings.warnings == ()
    path.chmod(0o640)
    (warning,) = Settings.from_env({**BASE, "SIGNPROXY_CLIENT_TOKENS_FILE": str(path)}).warnings
    assert "SIGNPROXY_CLIENT_TOKENS_FILE" in warning
    assert TOKEN not in warning


def test_token_variable_and_file_together_fail(tmp_path: Path) -> None:
    """Setting both the token list and its file is an error."""
    path = tmp_path / "tokens"
    path.write_text(f"bot:{TOKEN}")
    env = {
        **BASE,
        "SIGNPROXY_CLIENT_TOKENS": f"x:{OTHER}",
        "SIGNPROXY_CLIENT_TOKENS_FILE": str(path),
    }
    with pytest.raises(ConfigError, match="SIGNPROXY_CLIENT_TOKENS"):
        Settings.from_env(env)


def test_tokens_are_sensitive_values_and_not_in_repr() -> None:
    """The redactor is given the tokens; no repr of the settings shows one."""
    settings = Settings.from_env({**BASE, "SIGNPROXY_CLIENT_TOKENS": f"a:{TOKEN},b:{OTHER}"})
    assert {TOKEN, OTHER} <= set(settings.sensitive_values())
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.access)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "myhost.lan", "10.0.0.1"])
def test_non_loopback_bind_without_tokens_refuses_to_start(host: str) -> None:
    """Listening off loopback without client tokens is a ConfigError naming the way out."""
    for env, flag in (({**BASE, "SIGNPROXY_HOST": host}, None), (BASE, host)):
        with pytest.raises(ConfigError) as caught:
            Settings.from_env(env, host=flag)
        assert caught.value.variable == "SIGNPROXY_HOST"
        assert "SIGNPROXY_CLIENT_TOKENS" in caught.value.message
        assert "SIGNPROXY_INSECURE_BIND" in caught.value.message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_bind_needs_no_tokens(host: str) -> None:
    """Loopback addresses and names start without tokens and without a warning."""
    settings = Settings.from_env({**BASE, "SIGNPROXY_HOST": host})
    assert settings.warnings == ()


def test_non_loopback_bind_with_tokens_or_override() -> None:
    """Tokens make a non-loopback bind fine; the override works but leaves a warning."""
    with_tokens = Settings.from_env({**BASE, "SIGNPROXY_CLIENT_TOKENS": f"a:{TOKEN}"}, host="::")
    assert with_tokens.warnings == ()
    insecure = Settings.from_env({**BASE, "SIGNPROXY_INSECURE_BIND": "1"}, host="0.0.0.0")
    (warning,) = insecure.warnings
    assert "SIGNPROXY_INSECURE_BIND" in warning


def test_allowed_hosts_and_the_bound_address() -> None:
    """Allowed hosts are normalized; a specific bind address is allowed, a wildcard is not."""
    env = {**BASE, "SIGNPROXY_CLIENT_TOKENS": f"a:{TOKEN}"}
    settings = Settings.from_env({**env, "SIGNPROXY_ALLOWED_HOSTS": "SignProxy, [::1], x.lan."})
    assert settings.access.allowed_hosts == {"signproxy", "::1", "x.lan", "127.0.0.1"}
    assert Settings.from_env(env, host="192.168.1.5").access.allowed_hosts == {"192.168.1.5"}
    assert Settings.from_env(env, host="0.0.0.0").access.allowed_hosts == frozenset()


@pytest.mark.parametrize("value", ["host:8787", "http://host", "a b", "a/b"])
def test_bad_allowed_host_fails(value: str) -> None:
    """An allowed host with a port, scheme or stray character is a ConfigError."""
    with pytest.raises(ConfigError, match="SIGNPROXY_ALLOWED_HOSTS"):
        Settings.from_env({**BASE, "SIGNPROXY_ALLOWED_HOSTS": value})


def test_allowed_origins_are_normalized() -> None:
    """Origins are kept as browsers send them: lower case, default port left out."""
    value = "HTTP://LocalHost:3000, https://dash.example:443, http://[::1]:80/"
    settings = Settings.from_env({**BASE, "SIGNPROXY_ALLOWED_ORIGINS": value})
    assert settings.access.allowed_origins == {
        "http://localhost:3000",
        "https://dash.example",
        "http://[::1]",
    }


@pytest.mark.parametrize(
    "value", ["*", "null", "localhost:3000", "ftp://x", "http://x/path", "http://u@x", "http://x:z"]
)
def test_bad_allowed_origin_fails(value: str) -> None:
    """'*', 'null' and anything but scheme://host[:port] are refused at startup."""
    with pytest.raises(ConfigError, match="SIGNPROXY_ALLOWED_ORIGINS"):
        Settings.from_env({**BASE, "SIGNPROXY_ALLOWED_ORIGINS": value})


def _cli_env(**extra: str) -> dict[str, str]:
    return cli_env(**BASE, **extra)


async def test_cli_refuses_to_listen_on_all_interfaces_without_tokens() -> None:
    """`signproxy serve --host 0.0.0.0` without tokens exits 2 with a clear message."""
    status, output = await run("serve", "--host", "0.0.0.0", env=_cli_env())
    assert status == 2
    assert "SIGNPROXY_CLIENT_TOKENS" in output
    assert "SIGNPROXY_INSECURE_BIND" in output
    for secret in BASE.values():
        assert secret not in output


def test_cli_redacts_tokens_in_emulator_mode() -> None:
    """The CLI gives the client tokens to the log redactor (checked with --emulator)."""
    env = _cli_env(SIGNPROXY_CLIENT_TOKENS=f"bot:{TOKEN}")
    process = popen(
        [*SIGNPROXY, "serve", "--emulator", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = ""
        for line in process.stdout:  # bounded: the process prints 'listening' or exits
            if '"signproxy.listening"' in line:
                url = json.loads(line)["url"]
                break
        assert url.startswith("http://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        request = (
            f"GET /api/v5/account/balance?leak={TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-Request-Id: {TOKEN}\r\nConnection: close\r\n\r\n"
        ).encode()
        assert send_raw_sync(port, request).status == 401
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        kill_group(process.pid)
    assert process.returncode == 0
    assert '"signproxy.request"' in output
    assert TOKEN not in output
    for secret in ALL_SECRETS:
        assert secret not in output


ACCESS_VARIABLES = (
    "SIGNPROXY_CLIENT_TOKENS",
    "SIGNPROXY_CLIENT_TOKENS_FILE",
    "SIGNPROXY_INSECURE_BIND",
    "SIGNPROXY_ALLOWED_HOSTS",
    "SIGNPROXY_ALLOWED_ORIGINS",
    "SIGNPROXY_ALLOW_ENDPOINTS",
    "SIGNPROXY_DENY_ENDPOINTS",
    "SIGNPROXY_READ_ONLY",
)


@pytest.mark.parametrize("name", ACCESS_VARIABLES)
def test_access_variables_are_documented(name: str) -> None:
    """Each access variable is in docs/configuration.md's table and in config.example.env."""
    assert f"`{name}`" in (DOCS / "configuration.md").read_text()
    assert name in (ROOT / "config.example.env").read_text()


@pytest.mark.parametrize("refusal", Refused.__subclasses__(), ids=lambda cls: cls.__name__)
def test_refusal_codes_are_documented(refusal: type[Refused]) -> None:
    """Each refusal has its own SPX2xx code, with its status, in the docs' error table."""
    assert refusal.code.startswith("SPX2")
    assert (
        f"| `{refusal.code}` | {refusal.status} |" in (DOCS / "requests-and-errors.md").read_text()
    )
