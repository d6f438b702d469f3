"""Creates (once) the demo's staff account and prints how to sign in with it."""

import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User

EMAIL = "staff@turnout.localhost"


class Command(BaseCommand):
    help = "Creates the demo staff account if missing and prints its credentials."

    def handle(self, *args, **options):
        credentials = settings.VAR_DIR / "demo-staff-password.txt"
        user = User.objects.filter(email__iexact=EMAIL).first()
        if user is None or not credentials.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_superuser(email=EMAIL, name="Turnout staff")
            user.set_password(password)
            user.save(update_fields=["password"])
            credentials.parent.mkdir(parents=True, exist_ok=True)
            credentials.write_text(password + "\n")
            credentials.chmod(0o600)
        EmailAddress.objects.update_or_create(
            user=user, email=EMAIL, defaults={"verified": True, "primary": True}
        )
        password = credentials.read_text().strip()
        self.stdout.write(
            self.style.SUCCESS("Staff account for the demo (admin at /admin/):")
            + f"\n  email:    {EMAIL}\n  password: {password}\n"
        )
