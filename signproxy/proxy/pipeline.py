"""The pipeline: an ordered list of stages run over one :class:`~.record.Exchange`.

A stage is a small object with one job. Most stages only look and refuse (override
:meth:`Stage.check` and raise an error from :mod:`signproxy.errors`); a stage that must act
around the rest (wait for a rate budget, answer a retry from the journal, resolve an unknown
outcome after sending) overrides :meth:`Stage.run` and decides whether and when to call the
rest of the pipeline. The last stage answers without calling on.

Adding a feature to the request path means writing its stage and listing it where the
pipelines are assembled (:mod:`signproxy.proxy.stages`); the handler never changes.

Cost: the chain is linked once, when the pipeline is built. Consecutive check-only stages are
fused into one link that calls their checks in a loop, so a request pays one coroutine frame for
a run of checks, not one per check.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from signproxy.proxy.record import Answer, Exchange

Next = Callable[["Exchange"], Awaitable["Answer"]]


class Stage:
    """One job on a request's path.

    Attributes:
        name: a short stable name (``select-account``, ``rate-budget``), for logs and docs.
    """

    name: ClassVar[str] = "stage"

    def check(self, exchange: Exchange) -> None:
        """Look at the exchange, fill what this stage decides, or refuse by raising.

        Raises:
            SignproxyError: a refusal; nothing is forwarded and the client gets its code.
        """

    async def run(self, exchange: Exchange, call_next: Next) -> Answer:
        """Do this stage's job around the rest of the pipeline; the default only checks."""
        self.check(exchange)
        return await call_next(exchange)


def _only_checks(stage: Stage) -> bool:
    return type(stage).run is Stage.run


class _Checks:
    """A run of check-only stages fused into one link of the chain."""

    __slots__ = ("_call_next", "_checks")

    def __init__(self, checks: Sequence[Callable[[Exchange], None]], call_next: Next) -> None:
        self._checks = tuple(checks)
        self._call_next = call_next

    async def __call__(self, exchange: Exchange) -> Answer:
        for check in self._checks:
            check(exchange)
        return await self._call_next(exchange)


async def _nothing_answered(exchange: Exchange) -> Answer:
    msg = f"the pipeline ended without an answer for {exchange.method} {exchange.path}"
    raise RuntimeError(msg)


class Pipeline:
    """Stages linked once into a chain; calling the pipeline runs them over one exchange."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        """Link ``stages`` in order; the last one must answer without calling on."""
        self.stages = tuple(stages)
        chain: Next = _nothing_answered
        pending: list[Callable[[Exchange], None]] = []
        for stage in reversed(self.stages):
            if _only_checks(stage):
                pending.insert(0, stage.check)
                continue
            if pending:
                chain = _Checks(pending, chain)
                pending = []
            chain = functools.partial(stage.run, call_next=chain)
        if pending:
            chain = _Checks(pending, chain)
        self._chain = chain

    @property
    def names(self) -> tuple[str, ...]:
        """The stages' names, in order (for docs, tests and ``/-/status``)."""
        return tuple(stage.name for stage in self.stages)

    def __call__(self, exchange: Exchange) -> Awaitable[Answer]:
        """Run every stage over ``exchange``; the answer, or the refusal raised by a stage."""
        return self._chain(exchange)
