from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

# Staff sign in to the admin through allauth's login page, so its rate limits and
# the two-factor step apply to them too; Django's own admin login has neither.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    # Passwords change on allauth's page too: rate-limited, and the owner is told.
    path(
        "admin/password_change/",
        RedirectView.as_view(pattern_name="account_change_password"),
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("events.urls")),
    path("", include("cities.urls")),
    path("", include("checkin.urls")),
]
