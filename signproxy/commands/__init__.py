"""The subcommands; ``cli.py`` only parses the command line and dispatches here.

- :mod:`.serve`: ``serve`` (one process or workers; ``--emulator`` with throwaway keys).
- :mod:`.check`: ``check``, the doctor's report (text or ``--json``); :mod:`.doctor` diagnoses
  one account, :mod:`.probe_hosts` says which OKX hosts it tries.
- :mod:`.emulator`: ``emulator``, only the OKX emulator.
- :mod:`.health`: ``health``, the container probe.
- :mod:`.orders`: ``orders``, the order journal listed and filtered.
- :mod:`.operator`: ``halt``, ``resume``, ``status``: the kill switch, over a running proxy's
  ``/-/`` endpoints with an operator token.
- :mod:`.environment`: the env file and the process environment, merged (the only reader).
"""
