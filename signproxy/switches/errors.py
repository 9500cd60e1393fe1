"""The switches' refusals: halted, the operator endpoints, the guardrails (SPX850-SPX869).

RequestRejected                          (errors.py)
├── Halted                  403 SPX850   trading is halted: the request could add exposure
├── OperatorTokenRequired   401 SPX851   an operator endpoint without an operator token
├── OperatorTokenInvalid    403 SPX852   not an operator token (client tokens never are)
├── OperatorOff             403 SPX853   no SIGNPROXY_OPERATOR_TOKENS configured
├── OperatorBadRequest      400 SPX854   a halt body that is not {"reason", "cancel_open"}
└── GuardrailRefused        403 SPX860   a guardrail rule refused an order (base)
    ├── InstrumentNotAllowed    SPX861   the instrument is not in the rule's allow-list
    ├── OrderTooLarge           SPX862   sz over the rule's max_size for the instrument
    ├── NotionalTooLarge        SPX863   sz x px over the rule's max_notional
    ├── ReduceOnlyRequired      SPX864   a derivative order without reduceOnly
    ├── OrderRateExceeded   429 SPX865   more placed orders per minute than the rule allows
    └── OrderNotJudgeable       SPX866   an order a rule applies to but cannot judge
"""

from __future__ import annotations

from signproxy.errors import RequestRejected


class Halted(RequestRejected):
    """Trading is halted by an operator; only requests that cannot add exposure pass."""

    status = 403
    code = "SPX850"


class OperatorTokenRequired(RequestRejected):
    """An operator endpoint was called without ``Authorization: Bearer <operator token>``."""

    status = 401
    code = "SPX851"


class OperatorTokenInvalid(RequestRejected):
    """The token presented is not an operator token."""

    status = 403
    code = "SPX852"


class OperatorOff(RequestRejected):
    """No operator tokens are configured, so nobody may halt or resume through the proxy."""

    status = 403
    code = "SPX853"


class OperatorBadRequest(RequestRejected):
    """The operator request's body is not what the endpoint takes."""

    code = "SPX854"


class GuardrailRefused(RequestRejected):
    """A guardrail rule refused an order; nothing of the request was forwarded.

    Attributes:
        rule: the rule's name (also the log line's and the metric's ``rule``).
    """

    status = 403
    code = "SPX860"

    def __init__(self, message: str, *, rule: str) -> None:
        """Keep the rule's name next to the message."""
        super().__init__(message)
        self.rule = rule


class InstrumentNotAllowed(GuardrailRefused):
    """The order's instrument matches none of the rule's ``instruments`` patterns."""

    code = "SPX861"


class OrderTooLarge(GuardrailRefused):
    """The order's size is over the rule's ``max_size`` for its instrument."""

    code = "SPX862"


class NotionalTooLarge(GuardrailRefused):
    """The order's size times its price is over the rule's ``max_notional``."""

    code = "SPX863"


class ReduceOnlyRequired(GuardrailRefused):
    """The rule lets derivative orders only reduce a position, and this one does not say so."""

    code = "SPX864"


class OrderRateExceeded(GuardrailRefused):
    """The client token placed as many orders in the last minute as the rule allows."""

    status = 429
    code = "SPX865"


class OrderNotJudgeable(GuardrailRefused):
    """A rule applies to the order but a field it needs is missing or not a number."""

    code = "SPX866"
