"""Reading and validating settings: once, at the edge, into frozen objects.

- :mod:`.registry`: every variable's name, the one list a new variable is added to;
  :mod:`.unknown` refuses misspelt and unknown names (with a suggestion) before anything else.
- :mod:`.variables`: the one variable reader (``_FILE`` secrets, errors that name the variable).
- :mod:`.config`: :class:`~.config.Settings`, the whole frozen configuration.
- :mod:`.accounts`: the account model signing uses; :mod:`.account_env` reads it from variables.
- :mod:`.credentials`: secrets that never show themselves.
- :mod:`.access`, :mod:`.tokens`, :mod:`.netnames`: who may use the proxy and from where.
- :mod:`.rates`: ``SIGNPROXY_RATE_*``, how OKX's rate limits are kept.
- :mod:`.switches`: the dead-man switch, operator tokens, the halt's state dir, the rules file.
- :mod:`.limits`: connection and memory limits against hostile or broken clients.
"""
