from django.urls import path

from events import views, views_checkin, views_cities

app_name = "events"

urlpatterns = [
    path("", views.home, name="home"),
    path("events/<slug:slug>/", views.event_detail, name="detail"),
    path("events/<slug:slug>/register/", views.register, name="register"),
    path("registrations/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("release/<str:token>/", views.release, name="release"),
    path("me/", views.my_registrations, name="my_registrations"),
    path("events.ics", views_cities.series_feed, name="series_feed"),
    path("cities/<slug:slug>/", views_cities.city, name="city"),
    path("cities/<slug:slug>/events.ics", views_cities.city_feed, name="city_feed"),
    path("cities/<slug:slug>/follow/", views_cities.follow, name="follow_city"),
    path("cities/<slug:slug>/unfollow/", views_cities.unfollow, name="unfollow_city"),
    path("unfollow/<str:token>/", views_cities.unfollow_link, name="unfollow"),
    path("me/tickets/<str:code>/", views_checkin.ticket, name="ticket"),
    path("checkin/<slug:slug>/", views_checkin.checkin_page, name="checkin"),
    path("checkin/<slug:slug>/scan/", views_checkin.checkin_scan, name="checkin_scan"),
    path(
        "checkin/<slug:slug>/stats/", views_checkin.checkin_stats, name="checkin_stats"
    ),
]
