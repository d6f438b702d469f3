from django.shortcuts import render


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
