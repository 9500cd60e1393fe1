"""Subcommands other than ``serve``: ``check``, ``health``, ``halt``, ``resume``, ``status``.

``check`` is the doctor, ``health`` a probe; the operator's ``halt``, ``resume`` and ``status``
(:mod:`.operator`) talk to a running proxy's ``/-/`` endpoints.
"""
