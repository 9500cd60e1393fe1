"""The order journal: every order-affecting request and its outcome, in a local SQLite file.

- :mod:`.db`: the schema and every statement (synchronous; run in the writer thread or by the
  ``signproxy orders`` command, never on the event loop).
- :mod:`.rows`: what a finished exchange becomes in the journal (pure).
- :mod:`.writer`: :class:`~.writer.Journal`, one writer thread fed by a queue; the intent is
  committed before a request leaves, the outcome is queued when it is finished.
"""
