"""Subcommands other than ``serve``: ``check``, ``health`` and ``orders``.

- :mod:`.check`: the doctor; :mod:`.health`: a probe for container health checks.
- :mod:`.orders`: the order journal, listed and filtered.
"""
