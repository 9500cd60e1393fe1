"""Tests of signproxy.switches: the dead-man switch, the kill switch and the guardrails."""
