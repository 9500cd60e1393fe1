"""signproxy: a local signing reverse proxy for the OKX v5 REST API."""

__version__ = "0.1.0"
