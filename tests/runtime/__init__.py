"""Tests of signproxy.runtime: logs, reload and key rotation, shutdown, workers."""
