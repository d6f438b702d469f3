"""Ticket codes and their QR code: made once per registration, read at the door.

A code is random (60 bits), in Crockford's base32, stored normalized and shown as
XXXX-XXXX-XXXX. Its QR code is made here only, for the ticket page (SVG) and the
confirmation email (PNG): a full QR code, never Micro QR, which phones do not read.
"""

import io
import secrets
from functools import lru_cache

import segno

# Crockford's base32: no I, L, O or U, so a code read aloud or typed is unambiguous.
TICKET_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TICKET_LENGTH = 12  # 60 random bits


def new_ticket_code() -> str:
    """A random, unguessable ticket code (not derived from any id)."""
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))


def normalize_ticket_code(typed: str) -> str:
    """The code as stored, from what a person typed or a scanner read.

    Case, spaces and dashes are ignored, and the letters Crockford's base32 leaves
    out are read as the digits they look like (O as 0, I and L as 1).
    """
    cleaned = "".join(typed.split()).replace("-", "").upper()
    return cleaned.translate(str.maketrans("OIL", "011"))


def is_ticket_code(normalized: str) -> bool:
    """Whether a normalized code has a ticket code's shape (checked before any query)."""
    return len(normalized) == TICKET_LENGTH and not set(normalized) - set(
        TICKET_ALPHABET
    )


def grouped_ticket_code(code: str) -> str:
    """The code as people read it: XXXX-XXXX-XXXX."""
    return "-".join(code[start : start + 4] for start in range(0, len(code), 4))


QR_ERROR = "m"
QR_PNG_SCALE = 6  # pixels per module: 174 px square with the quiet zone


def _qr(code: str):
    return segno.make_qr(code, error=QR_ERROR)


def qr_png(code: str) -> bytes:
    """The code's QR code as a PNG (for email)."""
    buffer = io.BytesIO()
    _qr(code).save(buffer, kind="png", scale=QR_PNG_SCALE)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def qr_png_pixels() -> int:
    """The PNG's width and height. Every code has the same length and is in QR's
    alphanumeric set, so every ticket's QR code has the same size."""
    return _qr(TICKET_ALPHABET[-1] * TICKET_LENGTH).symbol_size(scale=QR_PNG_SCALE)[0]


def qr_svg(code: str, *, title: str) -> str:
    """The code's QR code as inline SVG that scales to its box, with a white quiet
    zone so it scans in dark mode too; segno escapes the title."""
    return _qr(code).svg_inline(
        title=title, svgclass="ticket-qr", lineclass=None, omitsize=True, light="#fff"
    )
