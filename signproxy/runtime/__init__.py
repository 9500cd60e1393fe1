"""Running the proxy: event loop, logs, reload, graceful shutdown, worker processes.

- :mod:`.serve`: the app's runner and ``serve``'s loop; :mod:`.listen` opens the socket (one
  clear line when the address cannot be had) and checks ``--port``.
- :mod:`.connections`: the connection gate between the socket and aiohttp: a cap per process,
  a request-head deadline, slow readers dropped; the fd limit raised at start.
- :mod:`.logbudget`: a per-second budget for log lines clients cause; :mod:`.memory` gives
  freed memory back after big answers; :mod:`.collector` tunes the garbage collector once
  the proxy serves.
- :mod:`.loop`: uvloop when installed.
- :mod:`.logs`: structlog set-up and redaction.
- :mod:`.reload`: SIGHUP and file-watch key rotation.
- :mod:`.shutdown`: SIGTERM/SIGINT drain.
- :mod:`.workers`: several processes on one port.
"""
