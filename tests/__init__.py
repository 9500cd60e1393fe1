"""The test suite; its folders mirror the package (signproxy/okx -> tests/okx, ...).

Fixtures live in conftest.py; helpers and fake servers that tests import live in tests/support.
"""
