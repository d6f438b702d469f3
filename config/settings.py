"""Turnout's settings: one module, read from environment variables.

With no variables set, everything runs on embedded defaults (SQLite under var/,
Celery over kombu's filesystem broker, email to the console). Production is switched
on by variables (DJANGO_DEBUG=0 and friends, see README), never by another module.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0 "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
    SECRET_KEY = "insecure-development-key-only-for-DJANGO_DEBUG-1"  # noqa: S105

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_countries",
    "parler",
    "accounts",
    "notifications",
    "events",
    "cities",
    "checkin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.FormCharsetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ViewerPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "config.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
            ],
        },
    },
]

# Database -------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # The web server and the Celery worker share one file. IMMEDIATE takes the write
    # lock when a transaction starts, so two writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: Celery's broker and the cache (allauth's rate limits live there) ----------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    # Rate limits must be shared by every process (web workers, the dev server's
    # reloader, the worker): a per-process memory cache would let each process count
    # alone. With no Redis, a file cache under var/ is shared by all local processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("TURNOUT_CACHE_DIR", default=str(VAR_DIR / "cache")),
        }
    }

# Anti-automation limits (events/ratelimits.py), counted in the cache above. Rates as
# in ACCOUNT_RATE_LIMITS, "amount/period/per" (period in s, m, h or d); per is "user",
# "ip", or "user+target" (one person and one event or city). Each is far above what a
# person does by hand; an action missing here is not limited.
TURNOUT_RATE_LIMITS = {
    # Registering, cancelling and releasing a seat each queue an email. Changing one's
    # mind about one event 5 times (10 actions) in 10 minutes is already more than
    # people do; signing up for 15 events in an hour too. An address is shared (an
    # office, a campus, the venue's Wi-Fi when a talk says "register now"): 200.
    "registration": "10/10m/user+target,30/1h/user,200/10m/ip",
    # Following and unfollowing cities (each follow means an email per new event).
    "follow": "10/10m/user+target,30/1h/user,200/10m/ip",
    # Scans at the door: a busy door admits one person every 2-3 seconds (20-30 a
    # minute); 120 leaves room for re-scans and typos and stops a script. Several
    # doors share the venue's connection: 600.
    "checkin": "120/1m/user,600/1m/ip",
}
# How long a change waits for an event's row lock (events/services.py) before it gives
# up with "busy, try again": a slow save holding the event never hangs every web
# worker behind it (pretix gives up after 3 s too). 0 waits for ever. PostgreSQL only.
EVENT_LOCK_TIMEOUT_SECONDS = env.float(
    "TURNOUT_EVENT_LOCK_TIMEOUT_SECONDS", default=3.0
)
# The door opens this long before the event starts and closes this long after it ends.
CHECKIN_OPENS_HOURS_BEFORE = env.float("TURNOUT_CHECKIN_OPENS_HOURS_BEFORE", default=3)
CHECKIN_CLOSES_HOURS_AFTER = env.float("TURNOUT_CHECKIN_CLOSES_HOURS_AFTER", default=3)

# Celery -----------------------------------------------------------------------
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Email has a queue of its own (notifications.tasks routes its send tasks there), so a
# slow mail server never delays other work.
# A worker consumes both unless started with -Q (e.g. a dedicated `-Q mail` worker).
CELERY_TASK_QUEUES = [
    Queue("celery", Exchange("celery"), routing_key="celery"),
    Queue("mail", Exchange("mail"), routing_key="mail"),
]
# Periodic work: both are scans of the database, safe to run twice at once.
CELERY_BEAT_SCHEDULE = {
    "dispatch-reminders": {
        "task": "events.dispatch_reminders",
        "schedule": env.float("TURNOUT_REMINDER_SCAN_SECONDS", default=60.0),
        "options": {"expires": 50},
    },
    "sweep-outbox": {
        "task": "notifications.sweep_outbox",
        "schedule": env.float("TURNOUT_OUTBOX_SWEEP_SECONDS", default=60.0),
        "options": {"expires": 50},
    },
    "prune-outbox": {
        "task": "notifications.prune_outbox",
        "schedule": 24 * 60 * 60.0,
        "options": {"expires": 60 * 60},
    },
    "purge-personal-data": {
        "task": "events.purge_personal_data",
        "schedule": 24 * 60 * 60.0,
        "options": {"expires": 60 * 60},
    },
}
# Publishing fails fast when the broker is down: the outbox row is already saved and
# the sweeper hands it over later, so a request never waits on Redis.
BROKER_FAIL_FAST = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # Longer than the longest retry delay (MAIL_RETRY_MAX_SECONDS), or Redis would hand
    # a waiting retry to a second worker (celery#3270, kombu#337).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 2 * 60 * 60,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
        **BROKER_FAIL_FAST,
    }
else:
    _broker_dir = VAR_DIR / "celery"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
        **BROKER_FAIL_FAST,
    }

# The outbox (notifications/) ---------------------------------------------------------
# Links in emails are absolute: the worker has no request to take the host from.
SITE_URL = env.str("TURNOUT_SITE_URL", default="http://127.0.0.1:8000")
# 12 attempts at 30 s doubling to a 30-minute cap: about 3.5 hours of outage.
MAIL_MAX_ATTEMPTS = env.int("TURNOUT_MAIL_MAX_ATTEMPTS", default=12)
MAIL_RETRY_BASE_SECONDS = env.float("TURNOUT_MAIL_RETRY_BASE_SECONDS", default=30.0)
MAIL_RETRY_MAX_SECONDS = env.float("TURNOUT_MAIL_RETRY_MAX_SECONDS", default=30 * 60.0)
MAIL_SEND_SOFT_TIME_LIMIT = 240
MAIL_SEND_TIME_LIMIT = 270
# A row in "sending" for longer than a send task may live was left by a dead worker.
MAIL_STUCK_AFTER_SECONDS = env.float("TURNOUT_MAIL_STUCK_AFTER_SECONDS", default=300.0)
MAIL_HAND_OVER_GRACE_SECONDS = env.float(
    "TURNOUT_MAIL_HAND_OVER_GRACE_SECONDS", default=15.0
)
MAIL_REQUEUE_AFTER_SECONDS = env.float(
    "TURNOUT_MAIL_REQUEUE_AFTER_SECONDS", default=600.0
)
# After a hand-over to Celery fails, the hand-overs after a commit skip the broker for
# this long (per process): requests do not wait on a broker that is down; the sweeper
# hands their rows over.
MAIL_HAND_OVER_PAUSE_SECONDS = env.float(
    "TURNOUT_MAIL_HAND_OVER_PAUSE_SECONDS", default=30.0
)
# The delivery log is kept this long after its event ended (or after the message, for
# account emails); a daily task deletes what is older.
MAIL_RETENTION_DAYS = env.int("TURNOUT_MAIL_RETENTION_DAYS", default=400)
# Attendees' personal data is erased this long after each event ended (their
# registrations lose their account, their emails address and content); the counts
# stay. A year covers the questions that follow an event and planning the next one.
PERSONAL_DATA_RETENTION_DAYS = env.int("TURNOUT_RETENTION_DAYS", default=365)

# Email ------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = env.int("DJANGO_EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default="Turnout <noreply@turnout.localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Accounts (django-allauth) -------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "events:my_registrations"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Turnout] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth's rate limits, all spelled out (only POSTs count; phone numbers are not
# used, so theirs keep allauth's defaults). "ip" is the client's address (see
# ALLAUTH_TRUSTED_PROXY_COUNT), "key" the email address concerned.
ACCOUNT_RATE_LIMITS = {
    # Failed sign-ins: per address (guessing one password) and per client address
    # (trying many accounts). Wrong two-factor codes count the same way, per account.
    "login_failed": "10/m/ip,5/5m/key",
    # Sign-in attempts of any outcome, per client address.
    "login": "30/m/ip",
    # Sign-in codes: each one emails the address, so per address also per hour.
    "request_login_code": "20/m/ip,3/m/key,10/h/key",
    # Sign-ups: a venue's attendees may share one address, so per minute only.
    "signup": "20/m/ip",
    # A verification email again: once every 3 minutes per address.
    "confirm_email": "1/3m/key",
    # Password reset requests (each emails the address) and the reset link's page.
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    # Signed in: changing the password, confirming it again for a sensitive page.
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    # Adding, removing, re-verifying an email address: adding one emails an address
    # of the person's choosing, so per hour too, and per client address, or one
    # person with many accounts could send our mail to anyone.
    "manage_email": "10/m/user,20/h/user,30/h/ip",
}
# Behind N reverse proxies (the documented TLS proxy is one), the client's address is
# the N-th from the right in X-Forwarded-For; 0 trusts no header and uses the socket's
# peer. Rate limits per IP depend on it (README, "Running in production").
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TURNOUT_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = (
    env.str("TURNOUT_TRUSTED_CLIENT_IP_HEADER", default="") or None
)
# Two-factor authentication (allauth.mfa): TOTP apps and recovery codes.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Secrets are stored encrypted with a key derived from DJANGO_SECRET_KEY: changing
# that key means staff set up their authenticator app again.
MFA_ADAPTER = "accounts.mfa.MFAAdapter"
MFA_TOTP_ISSUER = env.str("TURNOUT_MFA_ISSUER", default="Turnout")
# Also accept the code of the 30-second window just before and just after: a phone's
# clock a little off, or a code typed as it changes, still works. A code is good
# only once, and wrong codes count towards the failed sign-in limit.
MFA_TOTP_TOLERANCE = 1

# Internationalisation --------------------------------------------------------------
LANGUAGE_CODE = "en"
# Each name in its own language, so a reader finds theirs whatever the page's.
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("ja", "日本語"),
    ("pt-br", "Português (Brasil)"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Event titles and descriptions, per language (django-parler): the reader's, else the
# site's, else the event's own (events.models.Event).
PARLER_LANGUAGES = {
    None: tuple({"code": code} for code, _name in LANGUAGES),
    "default": {"fallbacks": [LANGUAGE_CODE], "hide_untranslated": False},
}
PARLER_DEFAULT_LANGUAGE_CODE = LANGUAGE_CODE
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# Static files: Bootstrap's own release files in static/bootstrap/ (its licence beside
# them), served by WhiteNoise; no CDN ---------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

from django.contrib.messages import constants as message_constants  # noqa: E402

MESSAGE_TAGS = {message_constants.ERROR: "danger"}

# Security: on whenever DEBUG is off; each can be tuned by its variable ---------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG
)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=not DEBUG)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every response, the admin included (django-csp). Scripts
# only from our own origin, never inline. Stylesheets likewise, and each <style> block
# still in a template by its hash (tests/test_security_headers.py says which hash is
# missing or stale). Style attributes stay allowed: the email previews are sandboxed
# srcdoc frames, which inherit this policy, and an email's HTML can only be styled
# inline; an attribute runs no script, and img-src and font-src keep CSS from reaching
# another origin. No page frames another; frame-src does not govern srcdoc frames.
from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [
            SELF,
            "'sha256-94t4q/rjGPUXBUJXCFFCF3gaVYu0bgKJk+byMs1RbTc='",  # checkin/door.html
            "'sha256-HW1Yk3YBsfTR6NCT/2RohAvT/H4TcfCXQXkRLYAZd00='",  # events/ticket.html
            "'sha256-BicIqAbdCmmv3hltUH9GUX0cXxGhVlxoaF6YnsFd1EM='",  # admin/index.html
        ],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [NONE],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features no page of ours uses are switched off; the door's scanner needs
# the camera on our own origin.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "autoplay": [],
    "camera": ["self"],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": [],
    "usb": [],
}

# Error reporting (optional): set SENTRY_DSN to send server errors to Sentry.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        # Attendees' names and addresses stay out of error reports.
        send_default_pii=False,
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env.str("DJANGO_LOG_LEVEL", default="INFO"),
    },
}
