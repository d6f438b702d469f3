from django import forms
from django.utils.translation import gettext_lazy as _

# Far longer than any code a person types (grouped, with spaces): what is longer was
# read from some other QR code.
MAX_TYPED_CODE = 64


class TicketCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Ticket code"),
        max_length=MAX_TYPED_CODE,
        error_messages={
            "required": _("Type or scan a ticket code."),
            "max_length": _("This is not a ticket code."),
            "null_characters_not_allowed": _("This is not a ticket code."),
        },
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg font-monospace",
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "inputmode": "text",
                "spellcheck": "false",
                "placeholder": "XXXX-XXXX-XXXX",
            }
        ),
    )
