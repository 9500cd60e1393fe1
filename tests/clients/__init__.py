"""Real client libraries and programs driven through the proxy (marked ``clients``).

The Node.js scripts and their npm lock file are in tests/clients/node.
"""
