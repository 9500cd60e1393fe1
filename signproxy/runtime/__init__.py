"""Running the proxy: event loop, logs, reload, graceful shutdown, worker processes.

- :mod:`.serve`: the app's runner and ``serve``'s loop; :mod:`.listen` opens the socket (one
  clear line when the address cannot be had) and checks ``--port``.
- :mod:`.loop`: uvloop when installed.
- :mod:`.logs`: structlog set-up and redaction.
- :mod:`.reload`: SIGHUP and file-watch key rotation.
- :mod:`.shutdown`: SIGTERM/SIGINT drain.
- :mod:`.workers`: several processes on one port.
"""
