"""The outbox: every email is a row before it is a message, and the row is its log.

Services add Message rows inside their own transaction; once it commits, the rows are
handed to Celery (the `mail` queue). A send task claims its rows under a lock and
delivers them (notifications.delivery). Nothing here depends on Celery being up: a
row that could not be handed over, or whose task was lost, is handed over again by
the sweeper (notifications.upkeep.sweep), which beat runs every minute. Nor does a
request wait for a broker that is down: after a hand-over fails, those that follow a
commit skip the broker for a while.
"""

import logging
import time
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config import audit
from notifications import kinds
from notifications.models import Message

logger = logging.getLogger(__name__)

Status = Message.Status

BATCH_SIZE = 50


def message(
    kind: str, *, user, dedupe_key: str | None, context=None, **about
) -> Message:
    """An unsaved message of kind to user's address, in their language.

    about names the rows it is about (event=..., registration=...). dedupe_key makes
    it unique: the same one is never queued twice. A user whose data was erased
    gets a message with no recipient, which delivery skips.
    """
    return Message(
        kind=kind,
        user=user,
        to_email=user.email if user else "",
        language=user.language if user else "",
        dedupe_key=dedupe_key,
        context=context or {},
        next_attempt_at=timezone.now(),
        **about,
    )


def queue(messages: Sequence[Message]) -> list[Message]:
    """Saves the messages as queued and hands them to Celery after the commit.

    Call inside the transaction that made them necessary: if it rolls back, nothing
    is saved and nothing is sent.
    """
    if not messages:
        return []
    if len(messages) == 1:
        messages[0].save()
        saved = list(messages)
    else:
        saved = Message.objects.bulk_create(messages)
    ids = [message.pk for message in saved]
    transaction.on_commit(lambda: hand_over_unless_paused(ids))
    return saved


def queue_ignoring_duplicates(messages: Sequence[Message]) -> list[int]:
    """Saves the messages whose dedupe key is new; hands those to Celery.

    Returns the ids of the queued rows it inserted (or that an earlier call inserted
    but never handed over). Safe to run twice at once: the unique key decides.
    """
    keys = [message.dedupe_key for message in messages]
    Message.objects.bulk_create(messages, ignore_conflicts=True, batch_size=1000)
    ids = []
    for start in range(0, len(keys), 1000):
        ids += Message.objects.filter(
            dedupe_key__in=keys[start : start + 1000],
            status=Status.QUEUED,
            enqueued_at__isnull=True,
        ).values_list("pk", flat=True)
    transaction.on_commit(lambda: hand_over_unless_paused(ids))
    return ids


def resend(message: Message, *, by=None) -> Message:
    """Queues a fresh copy of message, rendered anew (from the rows it is about as
    they are now), and records who asked for it.

    A kind holding credentials (reset links, sign-in codes) is never resent: its
    bodies are not kept and its links are single-use; the person asks for a new one.
    """
    if kinds.get(message.kind).credentials:
        raise ValueError(f"{message.kind} messages are not resent")
    copy = Message(
        kind=message.kind,
        user=message.user,
        to_email=message.user.email if message.user else message.to_email,
        language=message.user.language if message.user else message.language,
        event_id=message.event_id,
        registration_id=message.registration_id,
        context=message.context,
        resend_of=message,
        next_attempt_at=timezone.now(),
    )
    with transaction.atomic():
        queue([copy])
        audit.record(by=by, objects=[message], message="Resent.")
    return copy


# The circuit breaker: when the monotonic clock reads less, hand-overs after a commit
# skip the broker. Per process, like the broker connection it spares.
_paused_until = 0.0


def hand_over_unless_paused(ids: Iterable[int]) -> None:
    """hand_over(ids), unless a hand-over failed in the last
    MAIL_HAND_OVER_PAUSE_SECONDS: then the rows are left, queued, to the sweeper.

    What runs after a commit calls this, so a request pays for a broker that is down
    at most once per pause, not at every registration; the rows are already safe.
    """
    ids = list(ids)
    if time.monotonic() < _paused_until:
        logger.info(
            "Celery was unreachable a moment ago; %d message(s) left to the sweeper.",
            len(ids),
        )
        return
    hand_over(ids)


def resume_hand_overs() -> None:
    """Closes the breaker: the next hand-over tries the broker again."""
    global _paused_until
    _paused_until = 0.0


def _pause_hand_overs() -> None:
    global _paused_until
    _paused_until = time.monotonic() + settings.MAIL_HAND_OVER_PAUSE_SECONDS


def hand_over(ids: Iterable[int], *, countdown: float = 0) -> None:
    """Publishes send tasks for the messages; a broker that is down loses nothing.

    Tries the broker once (no publish retries: a failure costs milliseconds, not a
    second of backoff), whatever the breaker says: the sweeper and the worker's
    retries call this directly. Rows that were not handed over keep enqueued_at
    empty, and the sweeper finds them. A failure pauses hand_over_unless_paused; a
    success ends the pause.
    """
    from notifications.tasks import send_message, send_messages

    ids = list(ids)
    try:
        if len(ids) == 1:
            send_message.apply_async(
                kwargs={"message_id": ids[0]}, countdown=countdown, retry=False
            )
        else:
            for start in range(0, len(ids), BATCH_SIZE):
                chunk = ids[start : start + BATCH_SIZE]
                send_messages.apply_async(
                    kwargs={"message_ids": chunk}, countdown=countdown, retry=False
                )
    except Exception as error:  # noqa: BLE001 -- any broker failure: the sweeper retries
        _pause_hand_overs()
        logger.warning(
            "Could not hand %d message(s) to Celery (%s); the sweeper will.",
            len(ids),
            error,
        )
        return
    resume_hand_overs()
    now = timezone.now()
    Message.objects.filter(pk__in=ids).update(enqueued_at=now)
