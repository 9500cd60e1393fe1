"""Tests of signproxy.emulator, the local OKX that verifies every signature."""
