"""Subcommands other than ``serve``: ``check`` (the doctor) and ``health`` (a probe)."""
