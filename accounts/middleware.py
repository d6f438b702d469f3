from django.conf import settings
from django.utils import translation

from accounts.timezones import is_timezone

# Where an anonymous visitor's chosen time zone is kept (see accounts.views).
SESSION_TIMEZONE = "turnout_timezone"


class ViewerPreferencesMiddleware:
    """The signed-in reader's saved language wins over the cookie and the browser's
    Accept-Language (which LocaleMiddleware reads for everyone else); and
    request.viewer_zone is the zone the reader's clock is in, if known: their
    profile's, else the one they accepted in this session, else "".
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language in self.languages:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        zone = user.timezone if user.is_authenticated else ""
        zone = zone or request.session.get(SESSION_TIMEZONE, "")
        request.viewer_zone = zone if is_timezone(zone) else ""
        return self.get_response(request)
