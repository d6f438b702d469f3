import os

import django
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class TolerantWSGIRequest(WSGIRequest):
    """A request whose Content-Type parameters cannot be parsed is still a request.

    Django reads the header while building the request, before any middleware, and
    raises ValueError on an RFC 2231 parameter it cannot decode (``charset*=`` with
    a NUL or an unknown encoding): a bare 500. Here such parameters read as one
    charset no codec has, so FormCharsetMiddleware answers a form with 400 and other
    bodies are left unread.
    """

    def _set_content_type_params(self, meta):
        try:
            super()._set_content_type_params(meta)
        except ValueError:
            header = meta.get("CONTENT_TYPE", "")
            self.content_type = header.split(";", 1)[0].strip().lower()
            self.content_params = {"charset": "unreadable"}


class TurnoutWSGIHandler(WSGIHandler):
    request_class = TolerantWSGIRequest


django.setup(set_prefix=False)
application = TurnoutWSGIHandler()
