from django.conf import settings
from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from accounts.timezones import timezone_choices, validate_timezone
from accounts.validators import validate_one_line


def language_choices():
    """The languages Turnout speaks (settings.LANGUAGES): a person's preference and
    each event's own language choose from the same list."""
    return settings.LANGUAGES


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Emails are unique case-insensitively, so logging in ignores case too.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(
        _("display name"),
        max_length=150,
        blank=True,
        validators=[validate_one_line],
    )
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=language_choices,
        default="en",
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        choices=timezone_choices,
        validators=[validate_timezone],
        help_text=_(
            "Times are also shown in this zone when it differs from the event's."
        ),
    )
    email_reminders = models.BooleanField(
        _("email me reminders before my events"), default=True
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email.split("@")[0]

    def get_full_name(self):
        return self.name or self.email
