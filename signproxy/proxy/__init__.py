"""The proxy's request path: the app, the middleware, and the stages every REST request passes.

- :mod:`.app`: ``create_app()``, wiring only.
- :mod:`.middleware`: request ids, the error tree turned into responses, one log line.
- :mod:`.guard`: host, origin, browser and token checks before anything is read.
- :mod:`.selection`: which account signs; :mod:`.policy`: may this endpoint be signed.
- :mod:`.handler`: read, canonicalize, sign, forward.
- :mod:`.demo_flag`: noticing clients whose demo flag disagrees with their account.
"""
