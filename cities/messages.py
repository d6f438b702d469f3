"""A city's news: "Turnout comes to <city>", to each follower, once per event."""

from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from events.messages import (
    NOT_PUBLISHED,
    PREFETCH,
    RELATED,
    render_about_event,
    sample_messages,
    subject_line,
)
from events.models import Event
from notifications import kinds, links
from notifications.kinds import Rendered
from notifications.models import Message
from notifications.outbox import message as new_message

CITY_NEWS = "city_news"


def news(subscription, event: Event) -> Message:
    """An unsaved "new event in <city>" to a follower; dedupe key (event, user)."""
    user = subscription.user
    return new_message(
        CITY_NEWS,
        user=user,
        dedupe_key=f"event:{event.pk}:user:{user.pk}:{CITY_NEWS}:published",
        context={"city_slug": subscription.city_slug},
        event=event,
    )


def _subject(message: Message) -> str:
    event = message.event
    return subject_line(
        _("Turnout comes to %(city)s: %(event)s")
        % {"city": event.city, "event": event.title}
    )


def _unfollow(message: Message) -> tuple[str, str]:
    link = links.url(
        links.UNFOLLOW_CITY, [message.user.pk, message.context["city_slug"]]
    )
    return link, _("Stop news of events in %(city)s") % {"city": message.event.city}


def render(message: Message) -> Rendered:
    return render_about_event(message, subject=_subject, unsubscribe=_unfollow)


def skip_reason(message: Message, now: datetime) -> str:
    if message.event.status != Event.Status.PUBLISHED:
        return NOT_PUBLISHED
    if now >= message.event.starts_at:
        return "The event had started before this could be sent."
    return ""


def samples() -> list[Message]:
    (sample, *_others) = sample_messages()
    sample.kind, sample.registration = CITY_NEWS, None
    sample.context = {"city_slug": "san-francisco"}
    return [sample]


def register() -> None:
    kinds.register(
        kinds.Kind(
            name=CITY_NEWS,
            label=gettext_lazy("New event in a followed city"),
            render=render,
            skip_reason=skip_reason,
            samples=samples,
            related=RELATED,
            prefetch=PREFETCH,
        )
    )
