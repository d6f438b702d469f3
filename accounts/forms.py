from django import forms
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class VisuallyHiddenBoundField(forms.BoundField):
    """A field whose whole block (label included) is hidden on screen; crispy-forms
    puts these classes on the field's wrapper."""

    def css_classes(self, extra_classes=None):
        return f"{super().css_classes(extra_classes)} visually-hidden".strip()


class SignupForm(forms.Form):
    """Extra sign-up fields; allauth's own form supplies email and password.

    allauth's sign-up form is built on this class (ACCOUNT_SIGNUP_FORM_CLASS), so
    what is defined here runs inside it.
    """

    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        help_text=_("Shown on your badge. You can change it later."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    # A honeypot: people never see it (screen readers hear "leave this empty"),
    # bots filling every field do, and their sign-up is refused.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        bound_field_class=VisuallyHiddenBoundField,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "tabindex": "-1", "aria-hidden": "true"}
        ),
    )

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("website"):
            self.add_error(
                None,
                forms.ValidationError(
                    _("Your account could not be created. Please try again."),
                    code="honeypot",
                ),
            )
        return cleaned_data

    def full_clean(self):
        """Validates, and on a sign-up with a known address hashes the password all
        the same.

        With enumeration prevention, allauth answers a known address like a new one
        but skips creating the account, and with it hashing the password: the
        slowest step by far. Hashing it here (and throwing the hash away) makes
        both answers take the same time, so the time does not tell whether an
        address has an account.
        """
        super().full_clean()
        password = self.cleaned_data.get("password1") if self.is_bound else None
        if (
            password
            and not self.errors
            and getattr(self, "account_already_exists", False)
        ):
            make_password(password)

    def signup(self, request, user):
        user.name = self.cleaned_data["name"]
        user.save(update_fields=["name"])


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "timezone", "email_reminders", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [
            ("", _("Same as each event's city")),
            *self.fields["timezone"].choices[1:],
        ]
        if len(settings.LANGUAGES) < 2:
            del self.fields["language"]
