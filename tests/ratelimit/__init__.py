"""Tests of signproxy.ratelimit: counting rules, stores, the stage, a fleet sharing Redis."""
