"""WebSocket relay: ``/ws/v5/{private,business,public}`` to OKX, logging in for the bot.

- :mod:`.relay`: the aiohttp handler: account, limits, upstream connect, open/close logs.
- :mod:`.bridge`: one client connection bridged to one OKX connection: pumps, login.
- :mod:`.closing`: which side ended a connection, and the close code the other side gets.
- :mod:`.orders`: order ops through the order stages; their outcomes when OKX answers.
- :mod:`.frames`: classifying client frames, the signed login and error events (pure).
- :mod:`.policy`: may this op be sent? read-only and the endpoint policy (pure).
- :mod:`.accounts`: which credentials and WebSocket host a connection logs in with.
- :mod:`.errors`: the refusals made before the upgrade (SPX70x).

Which WebSocket host goes with a REST host is pure OKX knowledge: :mod:`signproxy.okx.hosts`.
"""
