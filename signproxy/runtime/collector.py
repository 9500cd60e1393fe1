"""The cyclic garbage collector tuned for a long-running server, once it is serving.

CPython's collector runs a young-generation pass each time 700 more container objects are
alive than at its last pass, and a full pass over every object from time to time. A proxy at
concurrency 16 keeps more than 700 objects alive in its in-flight requests alone, so at the
default threshold it ran a pass every few dozen requests, and each full pass walked everything
the start-up made (settings, modules, the app: about 60,000 objects) although none of it ever
becomes garbage. :func:`settle` moves what exists once the proxy serves out of the collector's
sight (``gc.freeze``) and raises the young threshold so that in-flight requests alone never
trigger a pass: about 25 us of CPU less per request at c=16 (bench/cpu.py A/B), more as the
de-duplication window fills.

Reference cycles are still collected, just less often: a request's objects are freed by
reference counting (the middleware breaks the one cycle a request made). The price of freezing
is that a start-up object which later ends up in an unreachable cycle is never freed.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Container objects allocated (net) between young-generation passes; CPython's default: 700."""


def settle() -> None:
    """Freeze what exists now and raise the young threshold; call once, when serving.

    In each process that serves (every worker calls it after its own start-up).
    """
    gc.collect()  # start-up's garbage goes now, not frozen with the rest
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
