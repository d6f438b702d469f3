"""Test settings: the project's settings, pointed at whatever real services answer.

PostgreSQL and Redis come from DATABASE_URL / REDIS_URL, else from their default
local addresses when those answer. What cannot be reached is recorded in
SERVICE_PROBLEMS; tests/conftest.py skips (or, with CI=true, fails) the tests that
need it, and says why.
"""

import os
import socket
import tempfile
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/turnout"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

SERVICE_PROBLEMS: dict[str, str] = {}


def _postgres_problem(url: str) -> str | None:
    import psycopg

    parts = urlsplit(url)
    try:
        psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as error:
        return f"PostgreSQL is not reachable at {parts.hostname}:{parts.port or 5432} ({error})"
    return None


def _redis_problem(url: str) -> str | None:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname, parts.port or 6379), timeout=3
        ) as s:
            s.sendall(b"PING\r\n")
            if not s.recv(16).startswith(b"+PONG"):
                return f"Redis at {parts.hostname}:{parts.port or 6379} did not answer PING"
    except OSError as error:
        return (
            f"Redis is not reachable at {parts.hostname}:{parts.port or 6379} ({error})"
        )
    return None


_database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
if _database_url.startswith(("postgres", "pgsql")):
    problem = _postgres_problem(_database_url)
    if problem:
        SERVICE_PROBLEMS["postgres"] = problem
        _database_url = "sqlite:///:memory:"
else:
    SERVICE_PROBLEMS["postgres"] = f"DATABASE_URL is not PostgreSQL ({_database_url})"
os.environ["DATABASE_URL"] = _database_url

REDIS_TEST_URL = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
problem = _redis_problem(REDIS_TEST_URL)
if problem:
    SERVICE_PROBLEMS["redis"] = problem
# The app itself keeps its embedded defaults (locmem cache, filesystem broker); tests
# that are about Redis configure it explicitly from REDIS_TEST_URL.
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.pop("EMAIL_URL", None)

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The same kind of cache as `make run` (shared by processes), in a folder of this run's
# own; tests/conftest.py clears it around every test.
CACHES["default"]["LOCATION"] = tempfile.mkdtemp(prefix="turnout-test-cache-")  # noqa: F405
# pytest-django runs with DEBUG off; WhiteNoise then serves from the finders, not
# from a collectstatic that tests never run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES["staticfiles"]["BACKEND"] = (  # noqa: F405
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)


# The test process publishes Celery tasks to a Redis of its own, on a port chosen
# now; tests/pipeline starts that redis-server (and the worker) when a test needs it.
# Elsewhere nothing listens there, and a publish fails fast, as with Redis down: the
# outbox rows stay queued for the sweeper.
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TEST_BROKER_PORT = int(os.environ.get("TURNOUT_TEST_BROKER_PORT") or _free_port())
CELERY_BROKER_URL = f"redis://127.0.0.1:{TEST_BROKER_PORT}/0"
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **BROKER_FAIL_FAST,  # noqa: F405
    "visibility_timeout": 2 * 60 * 60,
    "socket_connect_timeout": 3,
}
SITE_URL = "http://testserver"

# Two suites on one machine (a developer's and CI's) must not share a test database.
DATABASES["default"]["TEST"] = {  # noqa: F405
    "NAME": os.environ.get("TURNOUT_TEST_DATABASE", "test_turnout")
}
