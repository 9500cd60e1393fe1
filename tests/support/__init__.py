"""Helpers that tests import: fake upstreams, raw HTTP, client runners, log reading."""
