"""Subcommands other than ``serve``: ``check`` (the doctor), ``health`` (a probe), and the
operator's ``halt``, ``resume`` and ``status`` (:mod:`.operator`, over the ``/-/`` endpoints).
"""
