from django.urls import path

from events import views, views_checkin

app_name = "events"

urlpatterns = [
    path("", views.home, name="home"),
    path("events/<slug:slug>/", views.event_detail, name="detail"),
    path("events/<slug:slug>/register/", views.register, name="register"),
    path("registrations/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("release/<str:token>/", views.release, name="release"),
    path("me/", views.my_registrations, name="my_registrations"),
    path("me/tickets/<str:code>/", views_checkin.ticket, name="ticket"),
    path("checkin/<slug:slug>/", views_checkin.checkin_page, name="checkin"),
    path("checkin/<slug:slug>/scan/", views_checkin.checkin_scan, name="checkin_scan"),
    path(
        "checkin/<slug:slug>/stats/", views_checkin.checkin_stats, name="checkin_stats"
    ),
]
