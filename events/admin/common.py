"""What the admin's pages share."""

from django.contrib import messages
from django.core.exceptions import ValidationError

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


def add_model_errors(form, error: ValidationError) -> None:
    """The model's errors on the form: on their field where the form has it (the
    copy's end follows its start), else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages_ in error.message_dict.items():
        target = "starts_at" if name == "ends_at" else name
        form.add_error(target if target in form.fields else None, messages_)
