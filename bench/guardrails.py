"""CPU cost per order of the guardrail check (and of the halt check), measured in-process.

Runs the ``halt`` and ``guardrails`` stages' checks over the exchanges the body stage would have
made, with the rules of ``examples/rules.toml`` plus a rule with every kind of limit for the client,
and prints microseconds per order for a single order and for each order of a batch of 20, next
to a baseline where no rule applies:

    .venv/bin/python bench/guardrails.py [--iterations 20000] [--rounds 5]

Pure CPU on one core: no network, no I/O. The per-minute counter is given a limit no run reaches,
so every order is judged and counted as in production.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from signproxy.okx.orders import ORDER_ENDPOINTS, orders_in
from signproxy.proxy.record import Exchange
from signproxy.switches.guardrails import Guardrails
from signproxy.switches.halt import HaltBoard
from signproxy.switches.rules import parse_rules
from signproxy.switches.stages import GuardrailCheck, HaltCheck

ROOT = Path(__file__).resolve().parents[1]
EXTRA = """
[[rule]]
name = "bench-all"
tokens = ["bench-bot"]
instruments = ["BTC-USDT", "ETH-USDT", "*-USDT-SWAP"]
max_notional = 1000000
reduce_only = true
max_orders_per_minute = 1000000000
[rule.max_size]
"BTC-USDT" = 5
"*" = 1000
"""
ORDER = {
    "instId": "BTC-USDT",
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "sz": "0.01",
    "px": "60000",
    "clOrdId": "b1",
}


def exchange(client: str, account: str, batch: int) -> Exchange:
    """An order exchange as the body stage leaves it."""
    path = "/api/v5/trade/batch-orders" if batch > 1 else "/api/v5/trade/order"
    endpoint = ORDER_ENDPOINTS[path]
    payload: object = [dict(ORDER) for _ in range(batch)] if batch > 1 else dict(ORDER)
    record = Exchange("bench", "POST", path, path=path, endpoint=endpoint, payload=payload)
    record.orders = orders_in(payload, endpoint)
    record.client, record.account_name = client, account
    return record


def per_order_us(client: str, account: str, batch: int, iterations: int) -> float:
    """Microseconds of halt + guardrail checks per order."""
    text = (ROOT / "examples" / "rules.toml").read_text() + EXTRA
    checks = (
        HaltCheck(HaltBoard(None)).check,
        GuardrailCheck(Guardrails(parse_rules(text, "bench"))).check,
    )
    record = exchange(client, account, batch)
    loops = max(1, iterations // batch)
    started = time.perf_counter()
    for _ in range(loops):
        for check in checks:
            check(record)
    return (time.perf_counter() - started) / (loops * batch) * 1e6


def main() -> None:
    """Print one JSON line per case: the median over rounds, in microseconds per order."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--iterations", type=int, default=20000, help="orders per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for label, client, account, batch in (
        ("no rule applies", "nobody", "other", 1),
        ("single order, 2 rules (every kind of limit)", "bench-bot", "default", 1),
        ("batch of 20, 2 rules (every kind of limit)", "bench-bot", "default", 20),
    ):
        rounds = [per_order_us(client, account, batch, args.iterations) for _ in range(args.rounds)]
        print(json.dumps({"case": label, "us_per_order": round(statistics.median(rounds), 2)}))


if __name__ == "__main__":
    main()
