"""Operator routes under ``/-/``: health, readiness and metrics.

- :mod:`.routes`: the routes and the request observer that feeds metrics and readiness.
- :mod:`.metrics`: Prometheus metrics, bounded labels.
- :mod:`.readiness`: named readiness checks.
"""
