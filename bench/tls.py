"""The TLS scenario: a seeds-style client (a new HTTPS connection per request) direct vs proxied.

The upstream is a TLS server with a certificate from a throwaway CA made for the run, behind
relay.py, which adds the round-trip time of a real network. signproxy trusts the CA through
OpenSSL's standard ``SSL_CERT_FILE`` variable (set for its process only): no setting of
signproxy weakens or bypasses certificate checks.
"""

from __future__ import annotations

import statistics
import subprocess
import time
from typing import TYPE_CHECKING, Any

from servers import ORDER_PATH, order_body

if TYPE_CHECKING:
    from pathlib import Path


def make_certificates(directory: Path) -> Path:
    """A CA and a server certificate for 127.0.0.1 and localhost; returns the CA's file."""
    directory.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    ca_key, ca, key = directory / "ca.key", directory / "ca.pem", directory / "server.key"
    csr, cert, ext = directory / "server.csr", directory / "server.pem", directory / "san.ext"
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=signproxy bench CA", "-keyout", str(ca_key), "-out", str(ca),
    )  # fmt: skip
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", str(key), "-out", str(csr),
    )  # fmt: skip
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert),
    )  # fmt: skip
    return ca


def seeds_client(url: str, count: int, ca_file: Path | None) -> dict[str, Any]:
    """``count`` calls of ``requests.post`` without a session, as the seeds' bots do."""
    import requests  # noqa: PLC0415 - only this scenario needs it

    times: list[float] = []
    failures = 0
    for number in range(count):
        started = time.perf_counter()
        answer = requests.post(
            url,
            data=order_body(number),  # in turn over the instruments: no rate budget waits
            headers={"Content-Type": "application/json"},
            timeout=10,
            verify=str(ca_file) if ca_file is not None else True,
        )
        times.append(time.perf_counter() - started)
        failures += answer.status_code != 200 or answer.json().get("code") != "0"  # noqa: PLR2004
    times.sort()
    return {
        "requests": count,
        "failures": failures,
        "mean_ms": round(statistics.fmean(times) * 1000, 2),
        "p50_ms": round(times[count // 2] * 1000, 2),
        "p99_ms": round(times[min(count - 1, count * 99 // 100)] * 1000, 2),
    }


def compare(
    relay_port: int, proxy_port: int, ca_file: Path, count: int, bare_port: int | None = None
) -> dict[str, Any]:
    """Run the client direct (HTTPS through the relay), through signproxy and the bare signer."""
    proxies = {"signproxy": proxy_port} | ({"bare signer": bare_port} if bare_port else {})
    for port in proxies.values():
        seeds_client(f"http://127.0.0.1:{port}{ORDER_PATH}", 3, None)  # pool the connection
    result = {"direct": seeds_client(f"https://127.0.0.1:{relay_port}{ORDER_PATH}", count, ca_file)}
    for name, port in proxies.items():
        result[name] = seeds_client(f"http://127.0.0.1:{port}{ORDER_PATH}", count, None)
    result["speedup"] = round(result["direct"]["mean_ms"] / result["signproxy"]["mean_ms"], 2)
    return result
