"""Named accounts: the variable naming scheme, the default account, host validation, bindings."""

from pathlib import Path

import pytest

from signproxy.errors import ConfigError
from signproxy.runtime.logs import Redactor
from signproxy.settings.accounts import OKX_REST_HOSTS
from signproxy.settings.config import Settings

DEFAULT = {
    "OKX_API_KEY": "fake-key-acct-default-01",
    "OKX_API_SECRET": "FAKE0SECRET0ACCT0DEFAULT00000001",
    "OKX_API_PASSPHRASE": "fake-pass-default",
}
PAPER = {
    "OKX_ACCOUNT_PAPER_BOT_API_KEY": "fake-key-acct-paper-0002",
    "OKX_ACCOUNT_PAPER_BOT_API_SECRET": "FAKE0SECRET0ACCT0PAPER0000000002",
    "OKX_ACCOUNT_PAPER_BOT_API_PASSPHRASE": "fake-pass-paper",
    "OKX_ACCOUNT_PAPER_BOT_DEMO": "1",
}
LIVE = {
    "OKX_ACCOUNT_LIVE_API_KEY": "fake-key-acct-live-00003",
    "OKX_ACCOUNT_LIVE_API_SECRET": "FAKE0SECRET0ACCT0LIVE00000000003",
    "OKX_ACCOUNT_LIVE_API_PASSPHRASE": "fake-pass-live",
    "OKX_ACCOUNT_LIVE_UPSTREAM": "https://eea.okx.com",
}
TOKEN_A = "tok-acct-aaaaaaaaaaaaaaaaaaaa"
TOKEN_B = "tok-acct-bbbbbbbbbbbbbbbbbbbb"


def test_single_account_variables_are_the_default_account() -> None:
    """Without SIGNPROXY_ACCOUNTS the OKX_API_* variables make one account named default."""
    settings = Settings.from_env({**DEFAULT, "OKX_DEMO": "1"})
    (account,) = settings.accounts
    assert account.name == "default"
    assert account.demo is True
    assert account.upstream == "https://www.okx.com"
    assert account.credentials == settings.credentials
    assert account.headers["x-simulated-trading"] == "1"


def test_named_accounts_are_read_with_their_own_fields() -> None:
    """Each listed name (any case) reads OKX_ACCOUNT_<NAME>_*, with - spelled _ in the variable."""
    env = {**DEFAULT, **PAPER, **LIVE, "SIGNPROXY_ACCOUNTS": " Paper-Bot , LIVE"}
    settings = Settings.from_env(env)
    assert settings.accounts.names == ("default", "paper-bot", "live")
    paper, live = settings.accounts.get("paper-bot"), settings.accounts.get("live")
    assert paper is not None
    assert live is not None
    assert paper.credentials.api_key.reveal() == PAPER["OKX_ACCOUNT_PAPER_BOT_API_KEY"]
    assert (paper.demo, paper.upstream) == (True, "https://www.okx.com")
    assert (live.demo, live.upstream) == (False, "https://eea.okx.com")
    assert "x-simulated-trading" not in live.headers
    assert paper.variables == "OKX_ACCOUNT_PAPER_BOT_*"


def test_default_account_is_optional_with_named_accounts() -> None:
    """With SIGNPROXY_ACCOUNTS set and no OKX_API_* at all, there is no default account."""
    settings = Settings.from_env({**LIVE, "SIGNPROXY_ACCOUNTS": "live"})
    assert settings.accounts.names == ("live",)
    assert settings.credentials == settings.accounts.primary.credentials
    assert settings.accounts.primary.name == "live"


def test_partial_default_account_is_an_error() -> None:
    """One OKX_API_* credential set next to named accounts means the default account: all three are required."""
    env = {**LIVE, "SIGNPROXY_ACCOUNTS": "live", "OKX_API_KEY": "fake-key-only-0001"}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == "OKX_API_SECRET"


def test_named_account_credential_from_file(tmp_path: Path) -> None:
    """An account's secret may come from OKX_ACCOUNT_<NAME>_API_SECRET_FILE."""
    secret = tmp_path / "live_secret"
    secret.write_text("FAKE0SECRET0FROM0FILE0LIVE000001\n")
    secret.chmod(0o600)
    env = {**LIVE, "SIGNPROXY_ACCOUNTS": "live"}
    del env["OKX_ACCOUNT_LIVE_API_SECRET"]
    env["OKX_ACCOUNT_LIVE_API_SECRET_FILE"] = str(secret)
    live = Settings.from_env(env).accounts.get("live")
    assert live is not None
    assert live.credentials.secret.reveal() == "FAKE0SECRET0FROM0FILE0LIVE000001"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({**DEFAULT, **PAPER, **LIVE, "SIGNPROXY_ACCOUNTS": "paper-bot"}, "OKX_ACCOUNT_LIVE_API_KEY"),
        ({**DEFAULT, "OKX_ACCOUNT_LIVE_API_KEY_FIEL": "x"}, "OKX_ACCOUNT_LIVE_API_KEY_FIEL"),
        ({**DEFAULT, "SIGNPROXY_ACCOUNTS": "live"}, "OKX_ACCOUNT_LIVE_API_KEY"),
        ({**DEFAULT, **LIVE, "SIGNPROXY_ACCOUNTS": "live,live"}, "SIGNPROXY_ACCOUNTS"),
        ({**DEFAULT, "SIGNPROXY_ACCOUNTS": "default"}, "SIGNPROXY_ACCOUNTS"),
        ({**DEFAULT, "SIGNPROXY_ACCOUNTS": "live_bot"}, "SIGNPROXY_ACCOUNTS"),
        ({**DEFAULT, "SIGNPROXY_ACCOUNTS": "-live"}, "SIGNPROXY_ACCOUNTS"),
        ({**DEFAULT, "SIGNPROXY_ACCOUNTS": "a" * 33}, "SIGNPROXY_ACCOUNTS"),
        ({**DEFAULT, **LIVE, "SIGNPROXY_ACCOUNTS": "live", "OKX_ACCOUNT_LIVE_DEMO": "perhaps"}, "OKX_ACCOUNT_LIVE_DEMO"),
    ],
    ids=["unlisted-account", "typo", "missing-key", "listed-twice", "default-reserved",
         "underscore", "leading-dash", "too-long", "bad-demo"],
)  # fmt: skip
def test_account_configuration_errors_name_the_variable(env: dict, variable: str) -> None:
    """Stray, missing or malformed account variables stop startup with an error naming the variable."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == variable
    for value in (*DEFAULT.values(), *LIVE.values()):
        assert value not in str(caught.value)


@pytest.mark.parametrize("host", sorted(OKX_REST_HOSTS))
def test_okx_rest_hosts_are_accepted(host: str) -> None:
    """Every OKX REST host is accepted, for the default account and a named one, with or without :443."""
    env = {**DEFAULT, **LIVE, "SIGNPROXY_ACCOUNTS": "live", "SIGNPROXY_UPSTREAM": host}
    env["OKX_ACCOUNT_LIVE_UPSTREAM"] = host + ":443/"
    settings = Settings.from_env(env)
    assert [account.upstream for account in settings.accounts] == [host, host]
    assert all(account.official for account in settings.accounts)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SIGNPROXY_UPSTREAM", "http://127.0.0.1:8788"),
        ("SIGNPROXY_UPSTREAM", "http://www.okx.com"),
        ("SIGNPROXY_UPSTREAM", "https://aws.okx.com"),
        ("SIGNPROXY_UPSTREAM", "https://www.okx.com:8443"),
        ("SIGNPROXY_UPSTREAM", "https://okx.com.evil.example"),
        ("OKX_ACCOUNT_LIVE_UPSTREAM", "https://www.okx.co"),
    ],
)
def test_other_hosts_need_the_explicit_override(variable: str, value: str) -> None:
    """Any upstream but OKX's REST hosts is refused, naming its variable, unless SIGNPROXY_ALLOW_CUSTOM_UPSTREAM=1."""
    env = {**DEFAULT, **LIVE, "SIGNPROXY_ACCOUNTS": "live", variable: value}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == variable
    assert "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM" in str(caught.value)
    settings = Settings.from_env({**env, "SIGNPROXY_ALLOW_CUSTOM_UPSTREAM": "1"})
    assert not all(account.official for account in settings.accounts)


def test_named_accounts_inherit_signproxy_upstream() -> None:
    """A named account without its own UPSTREAM uses SIGNPROXY_UPSTREAM; the error then names that."""
    env = {**DEFAULT, **PAPER, "SIGNPROXY_ACCOUNTS": "paper-bot"}
    settings = Settings.from_env({**env, "SIGNPROXY_UPSTREAM": "https://us.okx.com"})
    assert {account.upstream for account in settings.accounts} == {"https://us.okx.com"}


def test_tokens_bind_to_configured_accounts() -> None:
    """name:token:a+b binds a token to accounts (case-insensitive); a plain entry is bound to none."""
    env = {
        **DEFAULT,
        **PAPER,
        **LIVE,
        "SIGNPROXY_ACCOUNTS": "paper-bot,live",
        "SIGNPROXY_CLIENT_TOKENS": f"a:{TOKEN_A}:Paper-Bot+default, b:{TOKEN_B}",
    }
    settings = Settings.from_env(env)
    a, b = settings.access.client_tokens
    assert a.accounts == frozenset({"paper-bot", "default"})
    assert b.accounts == frozenset()
    (warning,) = settings.warnings
    assert "token b" in warning
    assert TOKEN_B not in warning


@pytest.mark.parametrize(
    "entry",
    [f"a:{TOKEN_A}:nobody", f"a:{TOKEN_A}:", f"a:{TOKEN_A}:live+", f"a:{TOKEN_A}:li_ve"],
    ids=["unknown", "empty", "dangling-plus", "bad-name"],
)
def test_bad_token_bindings_are_errors(entry: str) -> None:
    """A token bound to an unknown or malformed account is a startup error that does not show the token."""
    env = {**DEFAULT, **LIVE, "SIGNPROXY_ACCOUNTS": "live", "SIGNPROXY_CLIENT_TOKENS": entry}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == "SIGNPROXY_CLIENT_TOKENS"
    assert TOKEN_A not in str(caught.value)


def test_every_account_secret_is_redacted() -> None:
    """The settings' sensitive values hold every account's key, secret and passphrase."""
    settings = Settings.from_env(
        {**DEFAULT, **PAPER, **LIVE, "SIGNPROXY_ACCOUNTS": "paper-bot,live"}
    )
    redactor = Redactor(settings.sensitive_values())
    secrets = [
        value
        for env in (DEFAULT, PAPER, LIVE)
        for name, value in env.items()
        if name.endswith(("KEY", "SECRET", "PASSPHRASE"))
    ]
    line = redactor.scrub(" ".join(secrets))
    assert not any(secret in line for secret in secrets)
    assert "Secret" in repr(settings.accounts)
    assert not any(secret in repr(settings.accounts) for secret in secrets)
