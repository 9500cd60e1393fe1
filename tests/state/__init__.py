"""Tests of signproxy.state: the Redis link shared by a fleet of proxies."""
