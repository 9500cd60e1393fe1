"""Reading and validating settings: once, at the edge, into frozen objects.

- :mod:`.variables`: the one variable reader (``_FILE`` secrets, errors that name the variable).
- :mod:`.config`: :class:`~.config.Settings`, the whole frozen configuration.
- :mod:`.accounts`: the account model signing uses; :mod:`.account_env` reads it from variables.
- :mod:`.credentials`: secrets that never show themselves.
- :mod:`.access`, :mod:`.tokens`, :mod:`.netnames`: who may use the proxy and from where.
- :mod:`.switches`: the dead-man switch, operator tokens, the halt's state dir, the rules file.
"""
