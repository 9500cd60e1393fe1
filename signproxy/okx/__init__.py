"""Pure OKX knowledge: no I/O, no clock reads, no settings.

- :mod:`.signing`: timestamps, prehash strings, HMAC signatures (pinned by known answers).
- :mod:`.canonical`: the request target and body exactly as they are signed and sent.
- :mod:`.exptime`: the default ``expTime`` header on placing and amending orders.
- :mod:`.orders`: which endpoints affect orders, and a parsed view of each order.
- :mod:`.envelope`: OKX's answer envelope and per-order results.
- :mod:`.clordid`: client order ids the proxy makes, inserted into a body as text.
- :mod:`.hosts`: which WebSocket host goes with a REST host and demo flag.
- :mod:`.rate_limits`: OKX's published REST rate limits, one row per endpoint with its source.
- :mod:`.auth_hints`: what OKX's authentication refusals (50100-50120) mean and what to do.
"""
