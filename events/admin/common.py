"""What the admin's pages share."""

from django.contrib import messages

from events.exceptions import TurnoutError


def apply_each(model_admin, request, objects, act, done) -> None:
    """Runs act (a service call) on each object; says what was done, and each refusal
    with the service's own message. done: an ngettext_lazy with a "count"."""
    count = 0
    for obj in objects:
        try:
            act(obj)
        except TurnoutError as error:
            model_admin.message_user(
                request, f"{obj}: {error.message}", level=messages.ERROR
            )
        else:
            count += 1
    if count:
        model_admin.message_user(request, done % {"count": count})
