"""Credentials that never show themselves: :class:`Secret`, and one key's :class:`Credentials`.

Apart from ``config.py`` so the account model (``accounts.py``) can use them without an import
cycle; ``config`` re-exports both names.
"""

from __future__ import annotations

from dataclasses import dataclass


class Secret:
    """A credential that never shows itself in a repr, str or log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        """Wrap the value."""
        self._value = value

    def reveal(self) -> str:
        """Return the value, for the one place that needs it (signing, headers)."""
        return self._value

    def last4(self) -> str:
        """Return a hint safe to print: the last four characters of a long value."""
        return "…" + self._value[-4:] if len(self._value) >= 16 else "…"  # noqa: PLR2004

    def __repr__(self) -> str:
        """Redact."""
        return "Secret(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        """Compare by value, so two settings built from the same input are equal."""
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        """Hash like the value."""
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Credentials:
    """One OKX API key with its secret and passphrase, and whether it is a demo-trading key."""

    api_key: Secret
    secret: Secret
    passphrase: Secret
    demo: bool

    def sensitive_values(self) -> tuple[str, ...]:
        """Every value that must never appear in output."""
        return (self.api_key.reveal(), self.secret.reveal(), self.passphrase.reveal())
