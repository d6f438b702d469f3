"""The request's way in: config.middleware.FormCharsetMiddleware and config.wsgi.

A form body in a charset Django cannot read, or a Content-Type it cannot parse, is a
400 with our page, never a server error (the bad-input sweep, test_bad_input.py,
sends such bodies to every URL)."""

import io

import pytest
from django.conf import settings
from django.core.exceptions import BadRequest
from django.test import Client, override_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from tests.support.sweep import CSRF_SECRET, FORM


# config.middleware.FormCharsetMiddleware ------------------------------------------
def strict_client() -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    return client


def post_language(client: Client, charset: str):
    """Chooses French with the right CSRF token, in a form declared in charset."""
    body = f"csrfmiddlewaretoken={CSRF_SECRET}&language=fr&next=/"
    encoded = body.encode(charset if charset in ("latin-1", "utf-16") else "utf-8")
    return client.generic(
        "POST",
        reverse("accounts:set_language"),
        encoded,
        content_type=f"{FORM}; charset={charset}",
    )


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "bogus-charset", ""])
def test_form_in_another_charset_is_a_400_with_our_page(charset):
    response = post_language(strict_client(), charset)

    assert response.status_code == 400
    assert [t.name for t in response.templates][:1] == ["400.html"]
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.parametrize(("charset", "status"), [("utf-8", 302), ("latin-1", 400)])
def test_multipart_form_is_read_in_utf8_only(charset, status):
    fields = {"csrfmiddlewaretoken": CSRF_SECRET, "language": "fr", "next": "/"}
    response = strict_client().generic(
        "POST",
        reverse("accounts:set_language"),
        encode_multipart(BOUNDARY, fields),
        content_type=f"{MULTIPART_CONTENT}; charset={charset}",
    )

    assert response.status_code == status


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf8", "us-ascii"])
def test_form_in_utf8_or_ascii_is_read(charset):
    response = post_language(strict_client(), charset)

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"


def test_without_the_middleware_a_latin1_form_is_a_server_error():
    """The control: Django's BadRequest, raised again by the CSRF check in each
    error view, escapes the handler; a server answers 500."""
    without = [
        m for m in settings.MIDDLEWARE if not m.endswith("FormCharsetMiddleware")
    ]
    assert len(without) == len(settings.MIDDLEWARE) - 1
    with override_settings(MIDDLEWARE=without), pytest.raises(BadRequest):
        post_language(strict_client(), "latin-1")


def test_csrf_failure_is_a_403_with_our_page():
    client = strict_client()
    body = b"csrfmiddlewaretoken=wrong&language=fr"
    response = client.generic(
        "POST", reverse("accounts:set_language"), body, content_type=FORM
    )

    assert response.status_code == 403
    assert [t.name for t in response.templates][:1] == ["403_csrf.html"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset*=utf-8''utf-8%00",
        "text/plain; charset*=x''%ff",
    ],
)
def test_unparseable_content_type_parameters_are_not_a_server_error(content_type):
    """Through the application gunicorn serves (Django's test client builds its own
    request object, so only the real entry point shows this)."""
    from config.wsgi import application

    body = b"a=1"
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/timezone/",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    statuses = []
    application(environ, lambda status, headers, exc_info=None: statuses.append(status))
    assert statuses and 400 <= int(statuses[0].split()[0]) < 500, statuses
