"""Tests of signproxy.ws: the WebSocket relay, its login replacement and its policy."""
