"""Reloading accounts in process: a valid reload swaps them, a failed one keeps the old, files are watched."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from signproxy.emulator import EmulatedKey
from signproxy.proxy.selection import Selector
from signproxy.runtime.logs import Redactor
from signproxy.runtime.reload import Reloader
from signproxy.settings.config import Settings
from tests.support.keys import DEMO_KEY, LIVE_KEY
from tests.support.logs import log_lines

NEW_KEY = EmulatedKey(
    api_key="fake-new-key-0003",
    secret="FAKE0SECRET0NEW0NOT0REAL00000003",
    passphrase="fake-pass-new-03",
)
WAIT_SECONDS = 10.0


class Files:
    """An account's credentials as three secret files, and the variables pointing at them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = {
            "SIGNPROXY_ACCOUNTS": "bot",
            "SIGNPROXY_UPSTREAM": "https://www.okx.com",
            **{
                f"OKX_ACCOUNT_BOT_{field}_FILE": str(directory / field.lower())
                for field in ("API_KEY", "API_SECRET", "API_PASSPHRASE")
            },
        }

    def write(self, key: EmulatedKey) -> None:
        """Put ``key`` into the files, each replaced whole."""
        for field, value in (
            ("api_key", key.api_key),
            ("api_secret", key.secret),
            ("api_passphrase", key.passphrase),
        ):
            staged = self.directory / f".{field}.new"
            staged.write_text(value + "\n")
            staged.chmod(0o600)
            staged.replace(self.directory / field)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    """Secret files holding LIVE_KEY."""
    made = Files(tmp_path)
    made.write(LIVE_KEY)
    return made


def make_reloader(files: Files) -> tuple[Reloader, Selector, Redactor]:
    settings = Settings.from_env(files.env)
    selector = Selector(settings.accounts)
    redactor = Redactor(settings.sensitive_values())
    return Reloader(lambda: dict(files.env), settings, selector, redactor), selector, redactor


def key_of(selector: Selector) -> str:
    account = selector.accounts.get("bot")
    assert account is not None
    return account.credentials.api_key.reveal()


async def eventually(check: Callable[[], bool]) -> None:
    """Wait (bounded) until ``check()`` holds."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            if check():
                return
            await asyncio.sleep(0.01)


def test_reload_swaps_in_new_key_and_redacts_old_and_new(files, log_output):
    """A valid reload swaps the accounts whole; old and new secrets are both redacted afterwards."""
    reloader, selector, redactor = make_reloader(files)
    before = selector.accounts
    files.write(NEW_KEY)
    assert reloader.reload("test") is True
    assert key_of(selector) == NEW_KEY.api_key
    assert before.get("bot") is not None  # the old object is untouched, for requests holding it
    assert before.get("bot").credentials.api_key.reveal() == LIVE_KEY.api_key  # type: ignore[union-attr]
    for value in (LIVE_KEY.secret, LIVE_KEY.passphrase, NEW_KEY.secret, NEW_KEY.passphrase):
        assert redactor.scrub(f"x{value}x") == "x<redacted>x"
    (done,) = log_lines(log_output, "signproxy.reloaded")
    assert (done["reason"], done["changed"], done["added"], done["removed"]) == (
        "test",
        ["bot"],
        [],
        [],
    )


@pytest.mark.parametrize("damage", ["empty-secret", "missing-passphrase", "bad-name"])
def test_failed_reload_keeps_old_accounts_and_logs_why(files, log_output, damage):
    """A reload that fails validation keeps the old accounts and logs the variable and problem, no value."""
    reloader, selector, _ = make_reloader(files)
    before = selector.accounts
    files.write(NEW_KEY)
    if damage == "empty-secret":
        (files.directory / "api_secret").write_text("")
        variable = "OKX_ACCOUNT_BOT_API_SECRET_FILE"
    elif damage == "missing-passphrase":
        (files.directory / "api_passphrase").unlink()
        variable = "OKX_ACCOUNT_BOT_API_PASSPHRASE_FILE"
    else:
        files.env["SIGNPROXY_ACCOUNTS"] = "bot,Not_Valid"
        variable = "SIGNPROXY_ACCOUNTS"
    assert reloader.reload("sighup") is False
    assert selector.accounts is before
    (failed,) = log_lines(log_output, "signproxy.reload_failed")
    assert (failed["variable"], failed["reason"], failed["level"]) == (variable, "sighup", "error")
    assert log_lines(log_output, "signproxy.reloaded") == []
    text = log_output.getvalue()
    assert NEW_KEY.secret not in text
    assert NEW_KEY.api_key not in text


def test_reload_ignores_other_settings_and_says_so(files, log_output):
    """Settings other than accounts are not applied by a reload; they are named in a warning."""
    reloader, selector, _ = make_reloader(files)
    before = selector.accounts
    files.env["SIGNPROXY_TIMEOUT"] = "3"
    assert reloader.reload("sighup") is True
    assert selector.accounts == before
    (ignored,) = log_lines(log_output, "signproxy.reload_ignored")
    assert ignored["settings"] == ["request_timeout"]


def test_reload_can_add_and_remove_accounts(files, log_output):
    """A reload may add an account and remove another; the log line names both."""
    reloader, selector, _ = make_reloader(files)
    files.env["SIGNPROXY_ACCOUNTS"] = "paper"
    files.env = {k: v for k, v in files.env.items() if not k.startswith("OKX_ACCOUNT_BOT_")}
    files.env.update(
        OKX_ACCOUNT_PAPER_API_KEY=DEMO_KEY.api_key,
        OKX_ACCOUNT_PAPER_API_SECRET=DEMO_KEY.secret,
        OKX_ACCOUNT_PAPER_API_PASSPHRASE=DEMO_KEY.passphrase,
        OKX_ACCOUNT_PAPER_DEMO="1",
    )
    assert reloader.reload("sighup") is True
    assert selector.accounts.names == ("paper",)
    (done,) = log_lines(log_output, "signproxy.reloaded")
    assert (done["added"], done["removed"]) == (["paper"], ["bot"])


async def test_watch_reloads_once_files_settle(files, log_output):
    """Polling notices changed secret files and reloads once they stop changing; a bad change keeps the old key."""
    reloader, selector, _ = make_reloader(files)
    watcher = asyncio.create_task(reloader.watch(0.02))
    try:
        files.write(NEW_KEY)
        await eventually(lambda: key_of(selector) == NEW_KEY.api_key)
        (files.directory / "api_key").unlink()
        await eventually(lambda: bool(log_lines(log_output, "signproxy.reload_failed")))
        assert key_of(selector) == NEW_KEY.api_key
    finally:
        watcher.cancel()
    (done,) = log_lines(log_output, "signproxy.reloaded")
    assert done["reason"] == "file-changed"
    (failed,) = log_lines(log_output, "signproxy.reload_failed")
    assert failed["variable"] == "OKX_ACCOUNT_BOT_API_KEY_FILE"


async def test_watch_does_nothing_without_changes(files, log_output):
    """Unchanged files cause no reload however long the watcher runs."""
    reloader, selector, _ = make_reloader(files)
    before = selector.accounts
    watcher = asyncio.create_task(reloader.watch(0.01))
    await asyncio.sleep(0.2)
    watcher.cancel()
    assert selector.accounts is before
    assert log_lines(log_output, "signproxy.reloaded") == []
