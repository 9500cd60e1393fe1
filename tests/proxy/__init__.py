"""Tests of signproxy.proxy: the request path, guard, account selection and endpoint policy."""
