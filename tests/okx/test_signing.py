"""Known-answer tests for the pure signing functions (the vector OKX's docs publish)."""

import pytest

from signproxy.emulator.auth import parse_iso_ms
from signproxy.okx.signing import Signer, iso_timestamp, prehash

# The public known-answer vector from OKX's docs and python-okx, not a real key.
SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
TIMESTAMP = "2020-12-08T09:08:57.715Z"


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        (
            "GET",
            "/api/v5/account/balance?ccy=BTC",
            b"",
            "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=",
        ),
        (
            "POST",
            "/api/v5/account/set-leverage",
            b'{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}',
            "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8=",
        ),
        (
            "POST",
            "/api/v5/account/set-leverage",
            b'{"instId": "BTC-USDT", "lever": "5", "mgnMode": "isolated"}',
            "/XctMG4gU+l0Tv1E5CsSdhrndN0MZxclhFp3+SFofI8=",
        ),
    ],
)
def test_known_answer_vectors(method: str, path: str, body: bytes, expected: str) -> None:
    """The signature matches python-okx's for each published vector."""
    assert Signer(SECRET).sign_request(TIMESTAMP, method, path, body) == expected


def test_method_is_upper_cased_in_prehash() -> None:
    """OKX signs the method in upper case whatever case the caller used."""
    assert prehash(TIMESTAMP, "get", "/api/v5/x", b"") == (TIMESTAMP + "GET/api/v5/x").encode()


def test_signer_reuse_gives_independent_signatures() -> None:
    """Signing twice with one Signer does not leak state from the first message into the second."""
    signer = Signer(SECRET)
    first = signer.sign(b"a")
    signer.sign(b"b")
    assert signer.sign(b"a") == first


def test_signer_repr_hides_secret() -> None:
    """Neither repr nor str of a Signer shows the secret."""
    signer = Signer(SECRET)
    assert SECRET not in repr(signer)
    assert SECRET not in str(signer)


@pytest.mark.parametrize(
    ("epoch_ms", "expected"),
    [
        (1607418537715, "2020-12-08T09:08:57.715Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (1607418537005, "2020-12-08T09:08:57.005Z"),
    ],
)
def test_iso_timestamp(epoch_ms: int, expected: str) -> None:
    """Timestamps are ISO 8601 UTC with exactly three millisecond digits and a Z."""
    assert iso_timestamp(epoch_ms) == expected
    assert parse_iso_ms(expected) == epoch_ms


def test_ws_login_signature_signs_verify_path() -> None:
    """A WebSocket login signs timestamp + GET + /users/self/verify with an empty body."""
    signer = Signer(SECRET)
    assert signer.sign_ws_login("1538054050") == signer.sign(b"1538054050GET/users/self/verify")
