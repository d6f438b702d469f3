from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("me/settings/", views.profile, name="profile"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("language/", views.set_language, name="set_language"),
    path("timezone/", views.set_timezone, name="set_timezone"),
]
