import codecs

from django.shortcuts import render

# The bodies Django parses into request.POST, and the charsets (by codecs' names) it
# can read them in: UTF-8, and ASCII, which is a part of it.
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
FORM_CHARSETS = ("utf-8", "ascii")


class FormCharsetMiddleware:
    """Answers 400, with our page, to a form body declared in any charset but UTF-8
    (or US-ASCII), before anything reads it.

    Django refuses a url-encoded body in another charset with BadRequest each time
    request.POST is read, and it is read again and again: by CsrfViewMiddleware,
    then by the 400 view, then the 500 view (both check the CSRF token again), and
    the request ends as a server error. Browsers send a form in its page's encoding,
    which is UTF-8 on every page of ours, and declare no charset; Latin-1, UTF-16 or
    an unknown name comes from a script, which is told its request was bad. The
    multipart parser would decode fields in any charset Python knows, but a form is
    one kind of body whatever its content type, so the same rule holds for it.

    Listed before CsrfViewMiddleware, the first to read the body, so that no
    middleware after it meets such a request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.content_type in FORM_CONTENT_TYPES:
            charset = request.content_params.get("charset")
            if charset is not None:
                if _codec_name(charset) not in FORM_CHARSETS:
                    return render(request, "400.html", status=400)
                # Django reads a form only when the charset is spelled "utf-8";
                # "UTF8" or "us-ascii" would be refused later.
                request.encoding = "utf-8"
        return self.get_response(request)


def _codec_name(charset: str) -> str | None:
    try:
        return codecs.lookup(charset).name
    except (LookupError, ValueError):  # unknown, or not a name at all ("utf-8\0")
        return None


class MethodNotAllowedPageMiddleware:
    """Gives Django's bare 405 responses (require_POST and friends) a readable page.

    The response keeps its status and its Allow header; only an empty body is filled.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            page = render(request, "405.html", status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response
