"""Key rotation without a restart: reloading the accounts on SIGHUP and when their files change.

A reload re-reads the env file and every ``_FILE`` secret (the process environment is fixed at
start), validates the whole configuration again and, only if that succeeds, swaps the one
immutable :class:`~signproxy.settings.accounts.Accounts` object (and the guardrail rules of
``SIGNPROXY_RULES_FILE``, whose file is watched too) the
:class:`~signproxy.proxy.selection.Selector`
hands out. A request takes its account once, so it is signed entirely with the old key or
entirely with the new one. A reload that fails keeps the old accounts and logs why (the variable
and the problem, never a value). Only accounts are reloaded; other changed settings are logged as
ignored until a restart.

File watching polls the ``mtime``, size and inode of the env file and the ``OKX_*_FILE`` secrets
every ``SIGNPROXY_WATCH_INTERVAL`` seconds, and reloads once they have changed and then stayed
the same for one more interval, so a rotation that writes the key, secret and passphrase files
one after another is read as a whole.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from signproxy.errors import ConfigError
from signproxy.settings.config import Settings
from signproxy.settings.switches import RULES_VARIABLE
from signproxy.settings.variables import FILE_SUFFIX
from signproxy.tasks import cancel_and_wait

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence

    from aiohttp import web

    from signproxy.proxy.selection import Selector
    from signproxy.runtime.logs import Redactor

Fingerprint = tuple[tuple[str, tuple[int, int, int] | None], ...]
# Settings a reload does not apply: the accounts are swapped, the rest needs a restart.
_RELOADED = frozenset({"credentials", "upstream", "accounts", "warnings", "rules"})


class Reloader:
    """Rebuilds the settings from their sources and swaps in the new accounts when valid."""

    def __init__(  # noqa: PLR0913 - the reload's collaborators
        self,
        read_env: Callable[[], Mapping[str, str]],
        settings: Settings,
        selector: Selector,
        redactor: Redactor,
        env_file: Path | None = None,
        *,
        on_reload: Sequence[Callable[[Settings], None]] = (),
    ) -> None:
        """Start from the running ``settings``; ``read_env`` re-reads the env file each call.

        ``on_reload`` are told the new settings after each successful reload (the guardrail
        rules are swapped in that way).
        """
        self._on_reload = tuple(on_reload)
        self._read_env = read_env
        self._settings = settings
        self._selector = selector
        self._redactor = redactor
        self._env_file = env_file
        self._known_secrets = set(settings.sensitive_values())
        self._paths = self._watched_paths(read_env())
        self._seen = self.fingerprint()
        self._log = structlog.get_logger("signproxy")

    def fingerprint(self) -> Fingerprint:
        """The identity of every watched file's current contents (None: missing)."""
        return tuple((str(path), _stat(path)) for path in self._paths)

    def reload(self, reason: str) -> bool:
        """Re-read and validate; swap the accounts in when valid. Returns whether it succeeded.

        Never raises: whatever goes wrong (a bad value, a file that is not UTF-8, unreadable,
        gone or not a regular file) is ``signproxy.reload_failed`` and the old accounts stay.
        """
        self._seen = self.fingerprint()
        try:
            env, new = self._build()
        except Exception as exc:  # noqa: BLE001 - every failure keeps the old configuration
            return self._failed(reason, exc)
        return self._apply(reason, env, new)

    async def reload_async(self, reason: str) -> bool:
        """:meth:`reload` with the files read in a thread, so a slow file never stalls requests."""
        self._seen = self.fingerprint()
        try:
            env, new = await asyncio.to_thread(self._build)
        except Exception as exc:  # noqa: BLE001 - every failure keeps the old configuration
            return self._failed(reason, exc)
        return self._apply(reason, env, new)

    def _build(self) -> tuple[Mapping[str, str], Settings]:
        env = self._read_env()
        # Flags (--host, --port, --unix) are not in env: the running values stand for them.
        unix = self._settings.unix_socket
        return env, Settings.from_env(
            env,
            host=self._settings.host,
            port=self._settings.port,
            unix=unix.path if unix is not None else None,
        )

    def _failed(self, reason: str, exc: Exception) -> bool:
        if isinstance(exc, ConfigError):
            variable, problem = exc.variable, exc.message
        else:  # the type only: an OS or decoding message may quote a path or bytes
            variable, problem = "(env file)", f"cannot be read: {type(exc).__name__}"
        self._log.error(
            "signproxy.reload_failed", reason=reason, variable=variable, problem=problem
        )
        return False

    def _apply(self, reason: str, env: Mapping[str, str], new: Settings) -> bool:
        # Old secrets stay redacted too: requests signed with them may still be logging.
        self._known_secrets.update(new.sensitive_values())
        self._redactor.set_secrets(self._known_secrets)
        self._paths = self._watched_paths(env)
        self._seen = self.fingerprint()
        for warning in new.warnings:
            self._log.warning("signproxy.config_warning", problem=warning)
        ignored = sorted(
            item.name
            for item in dataclasses.fields(Settings)
            if item.name not in _RELOADED
            and getattr(new, item.name) != getattr(self._settings, item.name)
        )
        if ignored:
            self._log.warning("signproxy.reload_ignored", reason=reason, settings=ignored)
        old = self._selector.accounts
        changed = sorted(
            account.name for account in new.accounts if old.get(account.name) not in (None, account)
        )
        self._selector.swap(new.accounts)
        for listener in self._on_reload:
            listener(new)
        self._log.info(
            "signproxy.reloaded",
            reason=reason,
            accounts=list(new.accounts.names),
            changed=changed,
            added=sorted(set(new.accounts.names) - set(old.names)),
            removed=sorted(set(old.names) - set(new.accounts.names)),
        )
        return True

    async def watch(self, interval: float) -> None:
        """Poll the watched files every ``interval`` seconds; reload once a change has settled."""
        previous = self._seen
        while True:
            await asyncio.sleep(interval)
            current = self.fingerprint()
            if current != self._seen and current == previous:
                await self.reload_async("file-changed")
                current = self._seen
            previous = current

    def _watched_paths(self, env: Mapping[str, str]) -> tuple[Path, ...]:
        paths = [self._env_file] if self._env_file is not None else []
        paths.extend(
            Path(value)
            for name, value in sorted(env.items())
            if name.startswith("OKX_") and name.endswith(FILE_SUFFIX) and value
        )
        rules = env.get(RULES_VARIABLE)
        if rules:
            paths.append(Path(rules))
        return tuple(paths)


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()  # follows symlinks: Kubernetes swaps a symlinked directory
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def reloading(
    reloader: Reloader, watch_interval: float
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that reloads on SIGHUP and, unless ``watch_interval`` is 0, on change."""

    async def context(_app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[bool]] = set()

        def on_sighup() -> None:
            task = asyncio.create_task(reloader.reload_async("sighup"))
            pending.add(task)  # kept until done: the loop holds tasks only weakly
            task.add_done_callback(pending.discard)

        loop.add_signal_handler(signal.SIGHUP, on_sighup)
        watcher = (
            asyncio.create_task(reloader.watch(watch_interval)) if watch_interval > 0 else None
        )
        try:
            yield
        finally:
            # Not removed: that would restore SIGHUP's default action, and a rotation signal
            # during the rest of the shutdown would kill the process.
            loop.add_signal_handler(signal.SIGHUP, _stopping)
            await cancel_and_wait(watcher)

    return context


def _stopping() -> None:
    structlog.get_logger("signproxy").info("signproxy.reload_skipped", reason="stopping")
