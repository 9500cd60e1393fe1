"""Stage ``policy``: may this method and path be signed at all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from signproxy.proxy.pipeline import Stage

if TYPE_CHECKING:
    from signproxy.proxy.policy import Policy
    from signproxy.proxy.record import Exchange


class EndpointPolicy(Stage):
    """Fund-moving endpoints, read-only mode, allow and deny rules (:mod:`~.policy`)."""

    name = "policy"

    def __init__(self, policy: Policy) -> None:
        """Judge with ``policy``."""
        self._policy = policy

    def check(self, exchange: Exchange) -> None:
        """Raise :class:`~signproxy.refusals.PolicyRefused` when the policy refuses."""
        assert exchange.path is not None  # noqa: S101 - the target stage runs first
        self._policy.enforce(exchange.method, exchange.path)
