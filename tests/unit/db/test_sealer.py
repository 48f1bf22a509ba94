"""Opening sealed values (docs/decisions.md, "Secrets at rest"): a token is
decrypted once per process; one no key opens is refused every time."""

from __future__ import annotations

import pytest

from vpnaas.db.secrets import Sealer, SecretKeyError, generate_key


class Refusing:
    """Stands where the keys were: any decryption fails."""

    def decrypt(self, token: bytes) -> bytes:
        raise AssertionError("decrypted again")


def test_an_opened_token_is_not_decrypted_again() -> None:
    sealer = Sealer([generate_key()])
    _, token, _ = sealer.seal("psk-0123456789")
    assert token is not None
    assert sealer.unseal(token) == "psk-0123456789"
    sealer._fernet = Refusing()  # type: ignore[assignment]
    assert sealer.unseal(token) == "psk-0123456789"


def test_a_token_no_key_opens_is_refused_each_time() -> None:
    _, token, _ = Sealer([generate_key()]).seal("psk-0123456789")
    other = Sealer([generate_key()])
    for _ in range(2):
        with pytest.raises(SecretKeyError):
            other.unseal(str(token))
