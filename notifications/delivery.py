"""Delivery: a send task claims its rows under a lock, skips what is no longer true,
renders each once, and sends them over one SMTP connection.

Rows move queued -> sending -> sent / failed / skipped; transient SMTP errors are
retried with exponential backoff and jitter, permanent ones give up. A row that keeps
dying in sending (its worker killed) is failed once out of attempts.
"""

import contextlib
import logging
import random
import smtplib
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import get_connection
from django.db import connection as db
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications import kinds, mime
from notifications.models import Message
from notifications.outbox import hand_over

logger = logging.getLogger(__name__)

Status = Message.Status
# A task may run this much before its row's next attempt (clocks, ETA rounding); a
# task that comes earlier (a duplicate) leaves the row to the one that is due.
EARLY = timedelta(seconds=1)


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


def _related(what: str) -> list[str]:
    """What every registered kind needs loaded with its rows (Kind.related/prefetch)."""
    return sorted({name for kind in kinds.registered() for name in getattr(kind, what)})


def _claim(ids: Sequence[int], now: datetime) -> list[Message]:
    """Takes the rows that are due (or stuck in sending) for this worker."""
    stuck = now - timedelta(seconds=settings.MAIL_STUCK_AFTER_SECONDS)
    with transaction.atomic():
        claimed = list(
            # Not SKIP LOCKED: hand_over() briefly locks rows it has just published
            # (enqueued_at), and a worker skipping them would strand the batch.
            # FOR UPDATE waits, then rechecks: a row another worker took drops out.
            Message.objects.select_for_update(of=("self",))
            .select_related("user", *_related("related"))
            .prefetch_related(*_related("prefetch"))
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


ERASED_RECIPIENT = (
    "The recipient's account was deleted, or their data erased, "
    "before this could be sent."
)


def skip_reason(message: Message, now: datetime) -> str:
    """Why the message is no longer true or worth sending, or "" when it is.

    Checked when it is sent, so e.g. a confirmation held up by a mail-server outage
    is not delivered after the registration was cancelled: a message without a
    recipient is never sent, and its kind decides the rest.
    """
    kind = kinds.get(message.kind)
    if not message.to_email or (message.user_id is None and not kind.without_account):
        # Only some kinds go to addresses without an account (a reset asked for an
        # unknown address); any other without one was for an account since
        # deleted, or a person whose data the retention purge erased.
        return ERASED_RECIPIENT
    return kind.skip_reason(message, now)


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
        connection.send_messages([mime.as_email(message, connection)])
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
    render = kinds.get(message.kind).render
    if render is None:
        raise ValueError(f"a {message.kind} message is queued rendered, and was not")
    rendered = render(message)
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
    if kinds.get(message.kind).credentials and status in (Status.SENT, Status.FAILED):
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
