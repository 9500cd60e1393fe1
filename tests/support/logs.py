"""Reading the proxy's JSON log lines, from a captured stream or from a process's output."""

from __future__ import annotations

import io
import json
from typing import Any


def log_lines(source: io.StringIO | str, event: str | None = None) -> list[dict[str, Any]]:
    """Every line of ``source`` parsed as one JSON object, or only those whose event is ``event``.

    ``source`` is the ``log_output`` fixture's stream or the text a process wrote. A line that
    is not JSON (a blank one included) fails the test: every line the proxy logs must be one
    JSON object.
    """
    text = source.getvalue() if isinstance(source, io.StringIO) else source
    lines = [json.loads(line) for line in text.splitlines()]
    if event is None:
        return lines
    return [line for line in lines if line.get("event") == event]
