"""The settings module: variables switch to real services, production is locked down."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 20 + "QpV7r-xW2sLmN9bTz4Hc1Fy8JdGe6KoAu3Zi5Rn0",
    "DJANGO_ALLOWED_HOSTS": "turnout.example.org",
}


def run_manage(*args, env_overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"))
    }
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(  # noqa: S603 -- our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_under(env_overrides) -> dict:
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'db': s.DATABASES['default'], 'cache': s.CACHES['default']['BACKEND'],"
        "'cache_location': s.CACHES['default'].get('LOCATION'),"
        "'broker': s.CELERY_BROKER_URL, 'broker_options': s.CELERY_BROKER_TRANSPORT_OPTIONS,"
        "'email': [s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS],"
        "'debug': s.DEBUG}, default=str))"
    )
    result = run_manage("shell", "-c", code, env_overrides=env_overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_check_deploy_passes_with_production_variables():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = dict(PRODUCTION)
    del env["DJANGO_SECRET_KEY"]
    result = run_manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0" in result.stderr


def test_defaults_need_no_server():
    config = settings_under({})
    assert config["debug"] is True
    assert config["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert config["db"]["NAME"] == str(ROOT / "var" / "db.sqlite3")
    # Shared by every local process (rate limits count across web workers), unlike
    # a per-process memory cache.
    assert config["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert config["cache_location"] == str(ROOT / "var" / "cache")
    assert config["broker"] == "filesystem://"
    assert config["broker_options"]["data_folder_in"] == str(
        ROOT / "var" / "celery" / "out"
    )
    assert config["broker_options"]["polling_interval"] == 0.1
    assert config["email"][0] == "django.core.mail.backends.console.EmailBackend"


def test_variables_switch_to_real_services():
    config = settings_under(
        {
            "DATABASE_URL": "postgres://turnout:secret@db.internal:5433/turnout",
            "REDIS_URL": "redis://cache.internal:6380/2",
            "EMAIL_URL": "smtp+tls://mailer:pw@smtp.internal:587",
        }
    )
    assert config["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert (config["db"]["HOST"], config["db"]["PORT"], config["db"]["NAME"]) == (
        "db.internal",
        5433,
        "turnout",
    )
    assert config["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert config["broker"] == "redis://cache.internal:6380/2"
    assert config["email"] == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.internal",
        587,
        True,
    ]


@pytest.mark.redis
def test_redis_url_gives_a_cache_shared_between_processes(settings):
    """Two processes with REDIS_URL see one cache: allauth's rate limits hold across
    gunicorn workers only because of this."""
    from django.core.cache.backends.redis import RedisCache

    key = f"turnout-test-{os.getpid()}"
    result = run_manage(
        "shell",
        "-c",
        f"from django.core.cache import cache; cache.set('{key}', 'from-another-process', 30)",
        env_overrides={"REDIS_URL": settings.REDIS_TEST_URL},
    )
    assert result.returncode == 0, result.stderr
    cache = RedisCache(settings.REDIS_TEST_URL, {})
    try:
        assert cache.get(key) == "from-another-process"
    finally:
        cache.delete(key)


def test_without_redis_the_cache_is_shared_between_processes(tmp_path):
    """With no Redis, the file cache under var/ is what every local process shares:
    a value one process writes, another reads (a per-process memory cache would not,
    and 2 web workers would each count failed logins alone)."""
    folder = tmp_path / "cache"
    env = {"TURNOUT_CACHE_DIR": str(folder)}
    wrote = run_manage(
        "shell",
        "-c",
        "from django.core.cache import cache; cache.set('shared', 'yes', 60)",
        env_overrides=env,
    )
    assert wrote.returncode == 0, wrote.stderr
    read = run_manage(
        "shell",
        "-c",
        "from django.core.cache import cache; print(cache.get('shared'))",
        env_overrides=env,
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip().splitlines()[-1] == "yes"


def test_sentry_is_off_by_default_and_on_with_a_dsn():
    code = (
        "import sentry_sdk; c = sentry_sdk.get_client();"
        "print(c.is_active(), c.options.get('send_default_pii'))"
    )
    off = run_manage("shell", "-c", code, env_overrides={})
    assert off.returncode == 0, off.stderr
    assert off.stdout.strip().splitlines()[-1] == "False None"
    dsn = {"SENTRY_DSN": "https://public@sentry.example.invalid/1"}
    on = run_manage("shell", "-c", code, env_overrides=dsn)
    assert on.returncode == 0, on.stderr
    # On, and without attendees' personal data in the reports.
    assert on.stdout.strip().splitlines()[-1] == "True False"


def test_make_run_on_another_port_links_to_that_port():
    """`make run PORT=8101`: the processes devserver starts build their links (emails,
    feeds, tickets) on :8101, unless TURNOUT_SITE_URL is set."""
    from config.devserver import child_env

    base = {k: v for k, v in os.environ.items() if k != "TURNOUT_SITE_URL"}
    code = (
        "from django.conf import settings; from config.site import absolute;"
        "print(absolute('/events/x/'))"
    )
    started = run_manage(
        "shell", "-c", code, env_overrides=child_env("127.0.0.1:8101", base)
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip().splitlines()[-1] == "http://127.0.0.1:8101/events/x/"
    chosen = child_env("127.0.0.1:8101", {**base, "TURNOUT_SITE_URL": "https://t.org"})
    assert chosen["TURNOUT_SITE_URL"] == "https://t.org"


def test_a_plain_pip_install_builds_without_warnings(tmp_path):
    """No pinned setuptools, no --no-build-isolation: pip's own isolated build of the
    project succeeds and setuptools has nothing to warn about (the SPDX licence)."""
    built = subprocess.run(  # noqa: S603 -- pip on our own project
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    assert list(tmp_path.glob("turnout-*.whl"))
    output = built.stdout + built.stderr
    assert "Deprecat" not in output and "license" not in output.lower(), output


def test_bootstrap_is_served_from_our_static_folder_with_its_licence():
    from django.conf import settings
    from django.contrib.staticfiles import finders

    static = Path(settings.BASE_DIR) / "static"
    for name in (
        "bootstrap/css/bootstrap.min.css",
        "bootstrap/js/bootstrap.bundle.min.js",
    ):
        assert Path(finders.find(name)) == static / name
    assert "The Bootstrap Authors" in (static / "bootstrap" / "LICENSE").read_text()
