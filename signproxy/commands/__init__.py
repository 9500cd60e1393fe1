"""Subcommands other than ``serve``: ``check`` (the doctor), ``health`` (a probe) and ``orders``
(the order journal, :mod:`.orders`)."""
