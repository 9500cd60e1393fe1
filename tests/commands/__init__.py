"""Tests of the command line: serve, check, health (real subprocesses)."""
