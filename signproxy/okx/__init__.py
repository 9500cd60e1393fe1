"""Pure OKX knowledge: no I/O, no clock reads, no settings.

- :mod:`.signing`: timestamps, prehash strings, HMAC signatures (pinned by known answers).
- :mod:`.canonical`: the request target and body exactly as they are signed and sent.
- :mod:`.exptime`: the default ``expTime`` header on placing and amending orders.
- :mod:`.hosts`: which WebSocket host goes with a REST host and demo flag.
- :mod:`.rate_limits`: OKX's published REST rate limits, one row per endpoint with its source.
- :mod:`.auth_hints`: what OKX's authentication refusals (50100-50120) mean and what to do.
"""
