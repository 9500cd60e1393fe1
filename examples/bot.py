"""A stand-in trading bot for compose.yaml: plain HTTP to signproxy, no key, no signing.

It waits until the proxy is ready, then asks for the USDT balance every 30 seconds. PROXY_URL
(default http://127.0.0.1:8787) is where the proxy listens; ROUNDS (default 0: forever) stops it
after that many requests. Standard library only, so any python image runs it.
"""

import itertools
import json
import os
import sys
import time
import urllib.error
import urllib.request

PROXY = os.environ.get("PROXY_URL", "http://127.0.0.1:8787")
ROUNDS = int(os.environ.get("ROUNDS", "0"))


def get(path: str) -> tuple[int, dict]:
    """GET a path from the proxy; returns the status and the JSON body."""
    try:
        with urllib.request.urlopen(PROXY + path, timeout=20) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def wait_until_ready(seconds: float) -> None:
    """Poll /-/ready until it answers 200."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if get("/-/ready")[0] == 200:  # noqa: PLR2004
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit("bot: signproxy is not ready")
        time.sleep(0.5)


def main() -> None:
    """Wait for the proxy, then poll the balance."""
    wait_until_ready(60)
    for round_number in itertools.count(1):
        status, body = get("/api/v5/account/balance?ccy=USDT")
        print(json.dumps({"bot": "balance", "status": status, "code": body.get("code")}))
        if round_number == ROUNDS:
            return
        time.sleep(30)


if __name__ == "__main__":
    main()
