"""WebSocket relay: ``/ws/v5/{private,business,public}`` to OKX, logging in for the bot.

urls.py     which OKX WebSocket host serves a REST upstream (pure)
frames.py   classifying client frames, building the signed login and error events (pure)
policy.py   may this op be sent? the read-only unit and the allow-all default (pure)
errors.py   the refusals made before the upgrade (SPX70x)
bridge.py   one client connection bridged to one OKX connection: pumps, login, closes
relay.py    the aiohttp handler: guard, account, limits, upstream connect, logs
"""
