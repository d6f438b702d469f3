from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("me/settings/", views.profile, name="profile"),
    path("me/data/", views.download_data, name="download_data"),
    path("me/delete/", views.delete_account, name="delete_account"),
    path("goodbye/", views.goodbye, name="goodbye"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("language/", views.set_language, name="set_language"),
    path("timezone/", views.set_timezone, name="set_timezone"),
]
