"""The kinds of message, registered by the apps that send them.

The outbox delivers rows; what a row says (its subject, bodies, invitation), whether
it is still true when it can be sent, and what travels with it (inline images) is
its kind's. events registers its confirmations, reminders and notices, cities its
news, accounts its verification and reset emails; notifications knows none of them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Kind", "Rendered", "choices", "get", "register", "registered"]


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    ics: str = ""
    headers: dict = field(default_factory=dict)


def _nothing_to_skip(message, now: datetime) -> str:
    return ""


def _no_images(message, html: str) -> list:
    return []


@dataclass(frozen=True)
class Kind:
    """One kind of message.

    render(message) -> Rendered, at its first send attempt (a retry resends the same
    rendering); None when the sender queues it rendered (account emails).
    skip_reason(message, now) -> why it is no longer true or worth sending, or "".
    inline_images(message, html) -> the MIMEImages html shows by cid: (a ticket QR).
    samples() -> unsaved messages of this kind, for the admin's previews.
    related: the relations delivery loads with the rows (select_related), and
    prefetch what it prefetches, so rendering reads no other rows.
    """

    name: str
    label: Any  # a lazy translation
    render: Callable | None = None
    skip_reason: Callable[..., str] = _nothing_to_skip
    inline_images: Callable[..., list] = _no_images
    samples: Callable[[], list] | None = None
    # Sent to an address with no account (a reset asked for an unknown address).
    without_account: bool = False
    # Holds credentials (reset links, sign-in codes): bodies are dropped once sent,
    # never shown to staff, never resent.
    credentials: bool = False
    related: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()


_kinds: dict[str, Kind] = {}


def register(*kinds: Kind) -> None:
    """Registers kinds (from an AppConfig.ready); registering one again replaces it."""
    for kind in kinds:
        _kinds[kind.name] = kind


def get(name: str) -> Kind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"no message kind {name!r} is registered") from None


def registered() -> list[Kind]:
    return list(_kinds.values())


def choices() -> list[tuple[str, Any]]:
    """Message.kind's choices: every registered kind, as registered."""
    return [(kind.name, kind.label) for kind in _kinds.values()]
