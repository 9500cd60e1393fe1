"""Tests of signproxy.upstream: faults, keep-alive reuse, OKX's clock, in-flight exchanges."""
