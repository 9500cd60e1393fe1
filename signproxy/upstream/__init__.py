"""The upstream side: the one client session to OKX, its pool, exchanges in flight, OKX's clock.

- :mod:`.client`: send one signed request, failures as typed errors, never resend a POST;
  :mod:`.reading` reads the answer within the size limit and the held-bytes budget.
- :mod:`.pool`: never write into a keep-alive connection OKX has closed.
- :mod:`.inflight`: exchanges that outlive their client; shutdown drains them.
- :mod:`.held`: the process-wide budget of answer bytes held for clients.
- :mod:`.clock`, :mod:`.okx_clock`: where the signing timestamp comes from, kept in step with OKX;
  :mod:`.time_slots` keeps all workers under OKX's limit on its time endpoint.
"""
