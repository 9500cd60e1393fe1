"""State shared beyond one request: the link to Redis that a fleet of proxies shares.

- :mod:`.redis`: one Redis client per process, whether Redis is reachable now, degraded mode.
"""
