"""The catalogs: complete, compiled, and in step with the code."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parent.parent
LOCALES = {"fr": "fr", "es": "es", "de": "de", "ja": "ja", "pt-br": "pt_BR"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


# Every folder with user-facing text: the apps, config and the templates.
APP_FOLDERS = (
    "accounts",
    "notifications",
    "events",
    "cities",
    "checkin",
    "config",
    "templates",
)


def catalog(locale: str) -> polib.POFile:
    return polib.pofile(ROOT / "locale" / locale / "LC_MESSAGES" / "django.po")


def test_every_language_offered_has_a_catalog():
    offered = {code for code, _name in settings.LANGUAGES} - {"en"}
    assert offered == set(LOCALES)


@pytest.mark.parametrize("locale", LOCALES.values())
def test_catalog_is_complete_with_nothing_fuzzy(locale):
    po = catalog(locale)
    missing = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert (missing, fuzzy) == ([], [])
    assert not po.metadata_is_fuzzy
    assert len(po) > 300


@pytest.mark.parametrize("locale", LOCALES.values())
def test_translations_keep_every_placeholder(locale):
    wrong = []
    for entry in catalog(locale):
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        if entry.msgid_plural:
            plural = sorted(PLACEHOLDER.findall(entry.msgid_plural))
            for form in entry.msgstr_plural.values():
                # A language with one plural form may use either placeholder set.
                if sorted(PLACEHOLDER.findall(form)) not in (wanted, plural):
                    wrong.append(entry.msgid)
        elif sorted(PLACEHOLDER.findall(entry.msgstr)) != wanted:
            wrong.append(entry.msgid)
    assert wrong == []


@pytest.mark.parametrize("locale", LOCALES.values())
def test_compiled_catalog_matches_its_source(locale):
    """The .mo `make run` uses is the .po compiled (make messages)."""
    po = catalog(locale)
    mo = polib.mofile(ROOT / "locale" / locale / "LC_MESSAGES" / "django.mo")

    def pairs(entries):
        return {
            (entry.msgctxt, entry.msgid): entry.msgstr or dict(entry.msgstr_plural)
            for entry in entries
            if entry.msgid
        }

    compiled = {
        key: {int(k): v for k, v in value.items()} if isinstance(value, dict) else value
        for key, value in pairs(mo).items()
    }
    source = {
        key: {int(k): v for k, v in value.items()} if isinstance(value, dict) else value
        for key, value in pairs(po).items()
    }
    assert compiled == source


def test_catalogs_hold_every_message_in_the_code(tmp_path):
    """Extracts the messages afresh (Django's makemessages, on a copy of the code)
    and compares them with each catalog: a string added without `make messages`
    fails here."""
    if shutil.which("xgettext") is None:
        service_missing(
            "GNU gettext", "xgettext is not installed (apt install gettext)"
        )
    from django.conf import settings

    ours = {app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()}
    assert ours <= set(APP_FOLDERS), "an app of ours is not extracted here"
    for folder in APP_FOLDERS:
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "locale").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    subprocess.run(  # noqa: S603 -- Django's own makemessages
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--keep-pot"]
        + ["--verbosity", "0"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = {
        (e.msgctxt, e.msgid) for e in polib.pofile(tmp_path / "locale" / "django.pot")
    }
    for locale in LOCALES.values():
        held = {(e.msgctxt, e.msgid) for e in catalog(locale) if not e.obsolete}
        assert (locale, sorted(fresh - held), sorted(held - fresh)) == (locale, [], [])
