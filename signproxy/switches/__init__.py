"""The switches bots forget to hold: a dead-man switch, a kill switch, order guardrails.

- :mod:`.deadman`: OKX's cancel-all-after, refreshed while bots are seen on the account.
- :mod:`.halt`, :mod:`.halt_redis`: halted or not, kept on disk and shared through Redis.
- :mod:`.cancel_open`: ``halt --cancel-open``, every pending order and algo order cancelled.
- :mod:`.rules`, :mod:`.guardrails`: the rules file, and judging orders by it.
- :mod:`.stages`: the pipeline stages (``deadman-touch``, ``halt``, ``guardrails``).
- :mod:`.routes`: ``/-/halt``, ``/-/resume``, ``/-/status`` (operator) and ``/-/heartbeat``.
- :mod:`.board`: one application's switches wired together; :mod:`.caller`: the proxy's own
  signed calls to OKX; :mod:`.errors`: SPX850-SPX866.
"""
