"""Tests of signproxy.settings: variables, accounts, access rules and their validation."""
