"""Exactly-once orders: look-ups that settle unknown outcomes, and retries answered, not sent.

- :mod:`.errors`: the proxy's codes for it (SPX801 not placed, SPX301 still unknown, SPX81x
  conflicts).
- :mod:`.resolver`: looks orders up by client order id until found, or until OKX's clock has
  passed their ``expTime`` (then they were never placed), or the time is up.
- :mod:`.answers`: the answers a resolution gives (OKX's shape for a placed order).
- :mod:`.dedup`: what a de-duplication claim is and a store's contract; the stores:
  :mod:`.dedup_memory` (in-process, compact, answers kept in the journal) and
  :mod:`.dedup_redis` (a fleet's); :mod:`.journal_answers` rebuilds a journalled attempt's
  answer from its rows when none was kept.

The stages that use them are :mod:`signproxy.proxy.stages.clordid`,
:mod:`signproxy.proxy.stages.dedup` and :mod:`signproxy.proxy.stages.journal`; the guarantees
and limits are in docs/order-safety.md.
"""
