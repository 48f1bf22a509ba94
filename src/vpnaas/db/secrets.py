"""Secret attributes at rest: sealed with Fernet keys, found by a keyed digest.

Every field the spec marks ``secret`` is stored in three columns (see
:mod:`vpnaas.db.tables`): the clear value, the sealed value and its digest.

- Without keys a value is stored in clear: ``(value, NULL, NULL)``.
- With keys ``(K1, K2, …)`` it is sealed under K1 (Fernet: AES-128-CBC and
  HMAC-SHA256, a fresh IV every time) and stored as ``("", token, digest)``;
  the digest is an HMAC-SHA256 of the value under a key derived from K1.
  Any of the keys opens a token (MultiFernet), so a new key can be put first
  while rows sealed under the old one still read; ``vpnaas db rotate-key``
  then seals every row under K1 (and seals rows stored in clear).
- An equality filter on a secret matches clear rows by value and sealed rows
  by the digests of the wanted values under every key; Fernet tokens differ
  even for equal values, so the digest is what makes the filter possible.
  Its cost: who reads the database learns which rows share a value.

docs/decisions.md ("Secrets at rest") records why.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.sql.elements import ColumnElement

from vpnaas import errors

__all__ = ["SealedColumns", "Sealer", "SecretKeyError", "generate_key", "sealed_length"]

#: the three stored values of a secret: clear value, token, digest
SealedColumns = tuple[str, str | None, str | None]

_DIGEST_INFO = b"vpnaas secret digest"
DIGEST_LENGTH = 64  # hex of a SHA-256 HMAC


class SecretKeyError(Exception):
    """The configured keys are unusable, or do not open the stored secrets.

    The message names the option and the problem, never a key or a value.
    """


def generate_key() -> str:
    """A new random key in the form ``[vpnaas] secret_key`` takes."""
    return Fernet.generate_key().decode("ascii")


def sealed_length(max_chars: int) -> int:
    """The longest Fernet token of a value of ``max_chars`` characters (4
    bytes each at most in UTF-8): version, timestamp, IV, padded
    ciphertext and HMAC, base64-encoded."""
    padded = (max_chars * 4 // 16 + 1) * 16
    raw = 1 + 8 + 16 + padded + 32
    return -(-raw // 3) * 4


#: at most this many opened tokens are kept (then all are forgotten)
MAX_OPENED = 100_000


def _fernet(key: str, position: int) -> tuple[Fernet, bytes]:
    try:
        raw = base64.urlsafe_b64decode(key.strip().encode("ascii"))
        if len(raw) != 32:
            raise ValueError
        fernet = Fernet(key.strip())
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise SecretKeyError(
            f"[vpnaas] secret key {position} is not a Fernet key (32 url-safe "
            "base64-encoded bytes; `vpnaas db generate-key` makes one)"
        ) from None
    digest_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DIGEST_INFO).derive(
        raw
    )
    return fernet, digest_key


class Sealer:
    """Seals and opens secret values with the configured keys, in order."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        pairs = [_fernet(key, n) for n, key in enumerate(keys, start=1)]
        self._fernet = MultiFernet([f for f, _ in pairs]) if pairs else None
        self._first = pairs[0][0] if pairs else None
        self._digest_keys = [d for _, d in pairs]
        # tokens opened so far: a list of 1,000 connections opened every psk
        # again on each rebuild (35 ms of its 50); the values are in every
        # cached response body anyway (docs/decisions.md, "Secrets at rest")
        self._opened: dict[str, str] = {}

    @classmethod
    def configured(cls, keys: Sequence[str], key_file: str | None) -> Sealer:
        """The sealer of ``[vpnaas] secret_key`` or ``secret_key_file``."""
        if keys and key_file:
            raise SecretKeyError("set [vpnaas] secret_key or secret_key_file, not both")
        if key_file:
            try:
                with open(key_file, encoding="ascii") as lines:
                    keys = [line.strip() for line in lines if line.strip()]
            except (OSError, UnicodeError) as exc:
                reason = getattr(exc, "strerror", None) or "not a text file"
                raise SecretKeyError(
                    f"[vpnaas] secret_key_file {key_file} cannot be read: {reason}"
                ) from None
            if not keys:
                raise SecretKeyError(f"[vpnaas] secret_key_file {key_file} holds no key")
        return cls(keys)

    def __repr__(self) -> str:
        return f"Sealer(keys={len(self._digest_keys)})"

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str) -> SealedColumns:
        """The stored columns of ``value``: sealed under the first key if any."""
        if self._first is None:
            return (value, None, None)
        token = self._first.encrypt(value.encode("utf-8")).decode("ascii")
        return ("", token, self._digest(self._digest_keys[0], value))

    def open(self, stored: Sequence[Any]) -> str:
        """The value of stored columns; a token no key opens is a 503."""
        clear, token, _digest = stored
        if token is None:
            return str(clear)
        try:
            return self.unseal(token)
        except SecretKeyError:
            raise errors.ServiceUnavailable(
                reason="a stored secret cannot be decrypted with the configured keys"
            ) from None

    def unseal(self, token: str) -> str:
        """Decrypt ``token``; :class:`SecretKeyError` if no key opens it."""
        if self._fernet is None:
            raise SecretKeyError(
                "secrets in the database are encrypted but no [vpnaas] secret_key is set"
            )
        value = self._opened.get(token)
        if value is not None:
            return value
        try:
            value = self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretKeyError(
                "a secret in the database cannot be decrypted with any of the "
                "configured [vpnaas] secret keys"
            ) from None
        if len(self._opened) >= MAX_OPENED:
            self._opened.clear()
        self._opened[token] = value
        return value

    def matches(
        self, columns: Sequence[sa.Column[Any]], values: Sequence[str]
    ) -> ColumnElement[bool]:
        """The SQL condition "the secret equals one of ``values``"."""
        clear, token, digest = columns
        in_clear = sa.and_(token.is_(None), clear.in_(values))
        if not self._digest_keys:
            return in_clear
        return sa.or_(in_clear, digest.in_(self.digests(values)))

    def digests(self, values: Sequence[str]) -> list[str]:
        """The digests ``values`` have when sealed under any of the keys."""
        return sorted({self._digest(key, v) for key in self._digest_keys for v in values})

    @staticmethod
    def _digest(key: bytes, value: str) -> str:
        return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
