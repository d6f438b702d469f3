"""The outbox: every email is a row before it is a message, and the row is its log.

Services add Message rows inside their own transaction; once it commits, the rows are
handed to Celery (the `mail` queue). A send task claims its rows under a lock, moves
them queued -> sending -> sent / failed / skipped, and retries transient SMTP errors
with exponential backoff and jitter. Nothing here depends on Celery being up: a row
that could not be handed over, or whose task was lost, is handed over again by
sweep(), which beat runs every minute. Nor does a request wait for a broker that is
down: after a hand-over fails, those that follow a commit skip the broker for a while.
"""

import contextlib
import logging
import random
import smtplib
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation

from events import emails
from events.models import Event, Message, Registration
from events.rules import reminder_refusal

logger = logging.getLogger(__name__)

Kind = Message.Kind
Status = Message.Status

BATCH_SIZE = 50
# A task may run this much before its row's next attempt (clocks, ETA rounding); a
# task that comes earlier (a duplicate) leaves the row to the one that is due.
EARLY = timedelta(seconds=1)


# Building and queueing -----------------------------------------------------------
def for_registration(
    registration: Registration, kind: str, *, key: str = "", context=None
) -> Message:
    """An unsaved message about a registration, to its attendee, in their language.

    key completes the dedupe key (registration, kind[, key]): the same one is never
    queued twice. A registration whose attendee's data was erased gets a message
    with no recipient, which delivery skips (skip_reason).
    """
    user = registration.user
    dedupe_key = f"reg:{registration.pk}:{kind}" + (f":{key}" if key else "")
    return Message(
        kind=kind,
        user=user,
        to_email=user.email if user else "",
        language=user.language if user else "",
        event_id=registration.event_id,
        registration=registration,
        dedupe_key=dedupe_key,
        context=context or {},
        next_attempt_at=timezone.now(),
    )


def for_user_about_event(
    user, event: Event, kind: str, *, key: str, context=None
) -> Message:
    """An unsaved message about an event to someone not registered for it (news of
    a city they follow); dedupe key (event, user, kind[, key])."""
    dedupe_key = f"event:{event.pk}:user:{user.pk}:{kind}" + (f":{key}" if key else "")
    return Message(
        kind=kind,
        user=user,
        to_email=user.email,
        language=user.language,
        event=event,
        dedupe_key=dedupe_key,
        context=context or {},
        next_attempt_at=timezone.now(),
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


def queue_account_email(email, *, to_email: str) -> Message:
    """Queues an email rendered by allauth (verification, password reset, login code)."""
    from accounts.models import User

    html = next(
        (
            content
            for content, mime in getattr(email, "alternatives", [])
            if mime == "text/html"
        ),
        "",
    )
    is_html = getattr(email, "content_subtype", "plain") == "html"
    message = Message(
        kind=Kind.ACCOUNT,
        user=User.objects.filter(email__iexact=to_email).first(),
        to_email=to_email,
        language=translation.get_language() or "",
        subject=email.subject,
        body_text="" if is_html else email.body,
        body_html=email.body if is_html else html,
        rendered_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )
    with transaction.atomic():
        queue([message])
    return message


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


def resend(message: Message) -> Message:
    """Queues a fresh copy of message, rendered anew from the current event.

    Account emails cannot be resent: their links and codes are single-use and their
    bodies are not kept; the person asks for a new one.
    """
    if message.kind == Kind.ACCOUNT:
        raise ValueError("account emails are not resent")
    copy = Message(
        kind=message.kind,
        user=message.user,
        to_email=message.user.email if message.user else message.to_email,
        language=message.user.language if message.user else message.language,
        event=message.event,
        registration=message.registration,
        context=message.context,
        resend_of=message,
        next_attempt_at=timezone.now(),
    )
    with transaction.atomic():
        queue([copy])
    return copy


# The circuit breaker: when the monotonic clock reads less, hand-overs after a commit
# skip the broker. Per process, like the broker connection it spares.
_paused_until = 0.0


def hand_over_unless_paused(ids: Iterable[int]) -> None:
    """hand_over(ids), unless a hand-over failed in the last
    MAIL_HAND_OVER_PAUSE_SECONDS: then the rows are left, queued, to sweep().

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
    empty, and sweep() finds them. A failure pauses hand_over_unless_paused; a
    success ends the pause.
    """
    from events.tasks import send_message, send_messages  # the tasks import this

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
    except Exception as error:  # noqa: BLE001 -- any broker failure: sweep() retries
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


# Delivering ------------------------------------------------------------------------
@dataclass
class SendError:
    text: str
    transient: bool
    connection_lost: bool = False


def classify(error: Exception) -> SendError:
    """Transient: the server or the network may do better later. Permanent: 5xx."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, answer = next(iter(error.recipients.values()))
        text = f"{code} {_decode(answer)}"
        return SendError(text, transient=code < 500)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        # Our credentials, not the recipient: worth retrying once someone fixes them.
        return SendError(f"{error.smtp_code} {_decode(error.smtp_error)}", True, True)
    if isinstance(error, smtplib.SMTPResponseException):
        text = f"{error.smtp_code} {_decode(error.smtp_error)}"
        return SendError(text, transient=error.smtp_code < 500)
    if isinstance(
        error, smtplib.SMTPServerDisconnected | OSError | socket.timeout | EOFError
    ):
        return SendError(f"{type(error).__name__}: {error}", True, True)
    return SendError(f"{type(error).__name__}: {error}", transient=False)


def _decode(answer) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped, times 0.5-1."""
    ceiling = min(
        settings.MAIL_RETRY_MAX_SECONDS,
        settings.MAIL_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 -- jitter, not secrecy


def _claim(ids: Sequence[int], now: datetime) -> list[Message]:
    """Takes the rows that are due (or stuck in sending) for this worker."""
    stuck = now - timedelta(seconds=settings.MAIL_STUCK_AFTER_SECONDS)
    with transaction.atomic():
        claimed = list(
            # Not SKIP LOCKED: hand_over() briefly locks rows it has just published
            # (enqueued_at), and a worker skipping them would strand the batch.
            # FOR UPDATE waits, then rechecks: a row another worker took drops out.
            Message.objects.select_for_update(of=("self",))
            .select_related("event", "registration", "user")
            .prefetch_related("event__translations")
            .filter(pk__in=ids)
            .filter(
                Q(status=Status.QUEUED, next_attempt_at__isnull=True)
                | Q(status=Status.QUEUED, next_attempt_at__lte=now + EARLY)
                | Q(status=Status.SENDING, sending_since__lt=stuck)
            )
            .order_by("pk")
        )
        # A row that keeps dying in sending (its worker killed, or its result
        # unrecordable) is not sent forever: out of attempts, it is failed.
        spent = [
            m
            for m in claimed
            if m.status == Status.SENDING and m.attempts >= settings.MAIL_MAX_ATTEMPTS
        ]
        if spent:
            Message.objects.filter(pk__in=[m.pk for m in spent]).update(
                status=Status.FAILED,
                sending_since=None,
                last_error=(
                    f"Gave up after {settings.MAIL_MAX_ATTEMPTS} attempts that "
                    "ended without a result (the worker was lost mid-send)."
                ),
            )
            claimed = [m for m in claimed if m not in spent]
        Message.objects.filter(pk__in=[m.pk for m in claimed]).update(
            status=Status.SENDING, sending_since=now, attempts=F("attempts") + 1
        )
    for message in claimed:
        message.attempts += 1
    return claimed


NOT_PUBLISHED = "The event was no longer published when this could be sent."
ERASED_RECIPIENT = (
    "The recipient's account was deleted, or their data erased, "
    "before this could be sent."
)


def skip_reason(message: Message, now: datetime) -> str:
    """Why the message is no longer true or worth sending, or "" when it is.

    Checked when it is sent, so a confirmation held up by a mail-server outage is
    not delivered after the registration or the event was cancelled, nor a
    reminder (rules.reminder_refusal, the scan's own rule) or a change notice after
    the event went back to draft.
    """
    if not message.to_email or (
        message.user_id is None and message.kind != Kind.ACCOUNT
    ):
        # Only account emails go to addresses without an account (a reset asked
        # for an unknown address); any other without one was for an account since
        # deleted, or a person whose data the retention purge erased.
        return ERASED_RECIPIENT
    registration = message.registration
    if message.kind == Kind.CITY_NEWS:
        if message.event.status != Event.Status.PUBLISHED:
            return NOT_PUBLISHED
        if now >= message.event.starts_at:
            return "The event had started before this could be sent."
        return ""
    if registration is None:
        return ""
    if message.kind == Kind.REMINDER:
        return reminder_refusal(registration, at=now)
    event = message.event
    if message.kind in (
        Kind.CONFIRMED,
        Kind.PROMOTED,
        Kind.EVENT_CHANGED,
        Kind.ANNOUNCEMENT,
    ):
        if event.status == Event.Status.CANCELLED:
            return "The event was cancelled before this could be sent."
        if registration.status == Registration.Status.CANCELLED:
            return "The registration was cancelled before this could be sent."
    if message.kind == Kind.EVENT_CHANGED and event.status != Event.Status.PUBLISHED:
        # As update_event_details tells nobody of a change to an unpublished event.
        return NOT_PUBLISHED
    if (
        message.kind == Kind.WAITLISTED
        and registration.status != Registration.Status.WAITLISTED
    ):
        return "No longer on the waitlist when this could be sent."
    return ""


def deliver(ids: Sequence[int]) -> None:
    """Sends the messages it can claim, over one SMTP connection.

    Each ends sent, failed (permanent refusal, or out of attempts), skipped (with the
    reason), or queued again with a retry handed to Celery after a backoff. When the
    connection is lost (or the task runs out of time), the messages not yet tried go
    back to the queue with that same backoff. A message another worker is sending is
    left alone.
    """
    claimed = _claim(ids, timezone.now())
    if not claimed:
        return
    with _unflushed_commits():
        _send_claimed(claimed)


def _send_claimed(claimed: list[Message]) -> None:
    connection = get_connection(fail_silently=False)
    untried: list[Message] = []
    retries: list[tuple[int, float]] = []
    failure = None
    try:
        try:
            connection.open()  # one connection for the batch; send_messages keeps it
        except Exception as error:  # noqa: BLE001 -- the server is down or refusing
            failure = classify(error)
            for message in claimed:
                delay = _fail_or_defer(message, failure, fresh=False)
                if delay is not None:
                    retries.append((message.pk, delay))
            claimed = []
        for index, message in enumerate(claimed):
            try:
                failure, delay = _deliver_one(message, connection)
            except SoftTimeLimitExceeded:
                failure = SendError("The send task ran out of time.", True, True)
                untried = claimed[index:]
                break
            if delay is not None:
                retries.append((message.pk, delay))
            if failure and failure.connection_lost:
                untried = claimed[index + 1 :]
                break
    finally:
        with contextlib.suppress(Exception):  # the server may already be gone
            connection.close()
    if untried:
        delay = retry_delay(untried[0].attempts)
        _put_back_untried(untried, failure.text, delay)
        hand_over([m.pk for m in untried], countdown=delay)
    for pk, delay in retries:
        hand_over([pk], countdown=delay)


@contextlib.contextmanager
def _unflushed_commits():
    """Commits made inside do not wait for PostgreSQL to flush them to disk.

    Each message's mark (sent, failed, queued again) is a commit of its own, and
    waiting for the disk at each one slowed sending by about a fifth. A worker that
    dies keeps every mark it made, since PostgreSQL already has them; only a crash of
    PostgreSQL itself can lose the last fraction of a second of marks (at most three
    times wal_writer_delay). Those rows are left in sending, as their claim was
    flushed, and the sweeper sends them again: a duplicate, never a loss. The claim
    itself is committed before this and waits for the disk as usual.
    """
    if db.vendor != "postgresql":
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with contextlib.suppress(Exception), db.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _deliver_one(message: Message, connection) -> tuple[SendError | None, float | None]:
    """Skips, renders and sends one claimed message; returns (failure, retry delay)."""
    reason = skip_reason(message, timezone.now())
    if reason:
        _finish(message, Status.SKIPPED, error=reason)
        return None, None
    try:
        fresh = _render_once(message)
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:  # noqa: BLE001 -- recorded on the row
        logger.exception("Could not render message %s", message.pk)
        _finish(message, Status.FAILED, error=f"Rendering failed: {error!r}")
        return None, None
    try:
        connection.send_messages([emails.as_email(message, connection)])
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:  # noqa: BLE001 -- classified here
        failure = classify(error)
        return failure, _fail_or_defer(message, failure, fresh=fresh)
    _finish(message, Status.SENT, fresh=fresh)
    return None, None


def _put_back_untried(messages: list[Message], error: str, delay: float) -> None:
    """Queues again messages claimed but never tried; the attempt is not counted."""
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(
        status=Status.QUEUED,
        attempts=F("attempts") - 1,
        last_error=error,
        sending_since=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )


_RENDERED_FIELDS = (
    "subject",
    "body_text",
    "body_html",
    "ics",
    "headers",
    "rendered_at",
)


def _render_once(message: Message) -> bool:
    """Renders the message if it never was; a retry resends exactly the same."""
    if message.rendered_at:
        return False
    rendered = emails.render(message)
    message.subject = rendered.subject
    message.body_text = rendered.text
    message.body_html = rendered.html
    message.ics = rendered.ics
    message.headers = rendered.headers
    message.rendered_at = timezone.now()
    return True


def _finish(message: Message, status: str, *, error: str = "", fresh=False) -> None:
    fields = {
        "status": status,
        "last_error": error,
        "sending_since": None,
        "next_attempt_at": None,
    }
    if status == Status.SENT:
        fields["sent_at"] = timezone.now()
    if fresh:
        fields.update({name: getattr(message, name) for name in _RENDERED_FIELDS})
    if message.kind == Kind.ACCOUNT and status in (Status.SENT, Status.FAILED):
        # Reset links and login codes are credentials: kept no longer than needed.
        fields.update(body_text="", body_html="")
    Message.objects.filter(pk=message.pk).update(**fields)


def _fail_or_defer(
    message: Message, failure: SendError, *, fresh: bool
) -> float | None:
    """Marks the message failed, or queued for another attempt; returns the delay."""
    if not failure.transient or message.attempts >= settings.MAIL_MAX_ATTEMPTS:
        _finish(message, Status.FAILED, error=failure.text, fresh=fresh)
        return None
    delay = retry_delay(message.attempts)
    fields = {
        "status": Status.QUEUED,
        "last_error": failure.text,
        "sending_since": None,
        "next_attempt_at": timezone.now() + timedelta(seconds=delay),
    }
    if fresh:
        fields.update({name: getattr(message, name) for name in _RENDERED_FIELDS})
    Message.objects.filter(pk=message.pk).update(**fields)
    return delay


# Sweeping ----------------------------------------------------------------------------
def sweep(*, now: datetime) -> list[int]:
    """Hands over again what Celery lost: never handed over, overdue, or stuck sending.

    A worker killed mid-send leaves its row in sending; after MAIL_STUCK_AFTER_SECONDS
    (longer than a send may take) it is sent again. Returns the ids handed over.
    """
    stuck = now - timedelta(seconds=settings.MAIL_STUCK_AFTER_SECONDS)
    never = now - timedelta(seconds=settings.MAIL_HAND_OVER_GRACE_SECONDS)
    overdue = now - timedelta(seconds=settings.MAIL_REQUEUE_AFTER_SECONDS)
    ids = list(
        Message.objects.filter(
            Q(status=Status.QUEUED, enqueued_at__isnull=True, created_at__lt=never)
            | Q(status=Status.QUEUED, next_attempt_at__lt=overdue)
            | Q(status=Status.SENDING, sending_since__lt=stuck)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:10_000]
    )
    if ids:
        Message.objects.filter(pk__in=ids, status=Status.QUEUED).update(
            next_attempt_at=now
        )
        logger.info("Sweeper hands %d message(s) to Celery again.", len(ids))
        hand_over(ids)
    return ids


# Pruning -------------------------------------------------------------------------
PRUNE_BATCH = 5000


def prune(*, now: datetime) -> int:
    """Deletes the delivery log older than MAIL_RETENTION_DAYS: finished messages
    (sent, failed, skipped) whose event ended before then, and account emails made
    before then. Nothing queued or sending is touched, and a message stays while
    its event is recent, so its dedupe key still stops a second send. Deletes in
    short batches; returns how many rows went.
    """
    cutoff = now - timedelta(days=settings.MAIL_RETENTION_DAYS)
    finished = Message.objects.filter(
        status__in=[Status.SENT, Status.FAILED, Status.SKIPPED]
    )
    old = finished.filter(
        Q(event__ends_at__lt=cutoff) | Q(event__isnull=True, created_at__lt=cutoff)
    )
    deleted = 0
    while True:
        batch = list(old.values_list("pk", flat=True)[:PRUNE_BATCH])
        if not batch:
            return deleted
        deleted += Message.objects.filter(pk__in=batch).delete()[0]
