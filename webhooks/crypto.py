"""Endpoint secrets at rest: encrypted with Fernet, never stored in the clear.

Unlike API keys, a webhook secret cannot be stored as a hash: every delivery signs with it.
The first key of WEBHOOK_SECRET_KEYS encrypts; every key decrypts, so keys rotate by putting
the new one first and re-encrypting (`manage.py reencrypt_webhook_secrets`). Without the
setting, one key is derived from SECRET_KEY (HKDF-SHA256).
"""

import base64
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_DERIVATION_INFO = b"techparts webhook endpoint secrets v1"


def _derived_key(secret_key: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DERIVATION_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw)


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    material = [key.encode() for key in keys] or [_derived_key(secret_key)]
    return MultiFernet([Fernet(key) for key in material])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.WEBHOOK_SECRET_KEYS), settings.SECRET_KEY)


def seal(plaintext: str) -> str:
    """Return `plaintext` encrypted with the current key, as text for a database column."""
    return _current().encrypt(plaintext.encode()).decode()


def unseal(token: str) -> str:
    """Return the plaintext of a `seal()` token, decrypted with whichever key made it."""
    return _current().decrypt(token.encode()).decode()


def reseal(token: str) -> str:
    """Return `token` re-encrypted with the current (first) key."""
    return _current().rotate(token.encode()).decode()
