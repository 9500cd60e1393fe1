"""Tests of signproxy.ops: the operator routes, readiness and metrics."""
