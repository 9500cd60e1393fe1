"""signproxy: a local signing reverse proxy for OKX's v5 REST and private WebSocket APIs.

The package follows the request path (docs/architecture.md traces one order through it):

- :mod:`signproxy.okx`: pure OKX knowledge: signing, canonical bytes, envelope, order endpoints.
- :mod:`signproxy.settings`: variables read and validated once into frozen settings.
- :mod:`signproxy.errors`: the one exception tree, with codes, statuses and kinds.
- :mod:`signproxy.ids`: ids unique across processes without a system call each.
- :mod:`signproxy.tasks`: background tasks stopped the one way (cancelled, then awaited).
- :mod:`signproxy.proxy`: the app, the middleware, the typed record and the pipeline of stages.
- :mod:`signproxy.upstream`: the client session to OKX, exchanges in flight, OKX's clock.
- :mod:`signproxy.ws`: the WebSocket relay and its order ops.
- :mod:`signproxy.ratelimit`: OKX's rate limits kept before OKX enforces them (the stage).
- :mod:`signproxy.state`: state a fleet of proxies shares (Redis).
- :mod:`signproxy.once`: exactly-once orders: look-ups that settle unknown outcomes, retries
  answered from the first attempt (in-process or Redis).
- :mod:`signproxy.journal`: the order journal (SQLite, one writer thread).
- :mod:`signproxy.switches`: the dead-man switch, the kill switch and the order guardrails.
- :mod:`signproxy.ops`: health, readiness and metrics routes.
- :mod:`signproxy.runtime`: serving, workers, reload, shutdown, logs, the event loop.
- :mod:`signproxy.commands`: ``serve``, ``check`` (the doctor), ``emulator``, ``health``, the
  operator's ``halt``, ``resume``, ``status``, and ``orders`` (the order journal).
- :mod:`signproxy.emulator`: a local OKX emulator that verifies signatures like OKX.
- :mod:`signproxy.cli`: argument parsing and dispatch.
"""

__version__ = "0.1.0"
