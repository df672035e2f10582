"""Column values encrypted at rest (AES-256-GCM, key derived from SECRET_KEY by HKDF).

Used for secrets the application must read back in clear, such as users.totp_secret
(OWASP ASVS 5.0 V11.1/V14.2: secrets protected at rest; GB/T 22239-2019 8.1.4.7 保密性).
A sealed value is `aesgcm1:` + base64url(12-byte nonce ‖ ciphertext ‖ 16-byte tag); the
associated data names the column and the row, so a value copied to another row does not
open there.
"""

from __future__ import annotations

import base64
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "aesgcm1:"
_SALT = b"export-innovation-bases/sealed/v1"


class Unreadable(Exception):
    """A sealed value that does not open with this key (SECRET_KEY changed, or tampered)."""


@functools.lru_cache(maxsize=8)
def _aead(secret_key: str, purpose: str) -> AESGCM:
    """One key per purpose, derived from SECRET_KEY (HKDF-SHA256, RFC 5869)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT,
               info=purpose.encode()).derive(secret_key.encode())
    return AESGCM(key)


def is_sealed(value: str | None) -> bool:
    return value is not None and value.startswith(PREFIX)


def seal(secret_key: str, purpose: str, row_id: int, plain: str) -> str:
    """Encrypt `plain` for column `purpose` (e.g. "users.totp_secret") of row `row_id`."""
    nonce = os.urandom(12)
    data = _aead(secret_key, purpose).encrypt(nonce, plain.encode(), f"{purpose}:{row_id}".encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + data).decode()


def unseal(secret_key: str, purpose: str, row_id: int, sealed: str) -> str:
    """The clear value of a sealed one; `Unreadable` if it does not open."""
    if not is_sealed(sealed):
        raise Unreadable("not a sealed value")
    try:
        raw = base64.urlsafe_b64decode(sealed[len(PREFIX):].encode())
        plain = _aead(secret_key, purpose).decrypt(raw[:12], raw[12:],
                                                   f"{purpose}:{row_id}".encode())
    except (InvalidTag, ValueError) as exc:
        raise Unreadable(str(exc) or type(exc).__name__) from None
    return plain.decode()
