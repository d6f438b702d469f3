from django.urls import path

from checkin import views

app_name = "checkin"

urlpatterns = [
    path("checkin/<slug:slug>/", views.checkin_page, name="door"),
    path("checkin/<slug:slug>/scan/", views.checkin_scan, name="scan"),
    path("checkin/<slug:slug>/stats/", views.checkin_stats, name="stats"),
]
