"""OKX's rate limits, kept before OKX enforces them (issue 15).

- :mod:`signproxy.okx.rate_limits`: the published limits, as data (pure, with sources).
- :mod:`.draws`: which budgets a request draws on, per OKX's counting rules (pure).
- :mod:`.window`: the in-process store, a sliding log (also the fallback without Redis).
- :mod:`.redis_store`: the fleet-wide store, one atomic Lua script in Redis.
- :mod:`.stage`: the ``rate-budget`` stage (wait, or refuse with 429) and the back-off on
  OKX's own ``50011`` / ``50061``; :mod:`.waiting`: waiting requests take turns per budget.
- :mod:`.account_limit`: the sub-account limit raised to ``accRateLimit``, re-read daily.
- :mod:`.errors`: the refusals, SPX400-SPX403. :mod:`.metrics`: their metrics.

How the pieces are built for one app: :func:`.stage.build_budgets`; docs/rate-limits.md.
"""
