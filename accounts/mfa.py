"""Two-factor secrets are stored encrypted (allauth.mfa stores them in the clear by
default), so a copy of the database or a backup holds no usable TOTP key."""

import base64
import hashlib

from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    # A key of its own, derived from the secret key with a purpose of its own.
    digest = hashlib.sha256(
        f"turnout.mfa-secrets:{settings.SECRET_KEY}".encode()
    ).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class MFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return _fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        return _fernet().decrypt(encrypted_text.encode()).decode()
