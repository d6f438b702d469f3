from django.urls import path

from cities import views

app_name = "cities"

urlpatterns = [
    path("events.ics", views.series_feed, name="series_feed"),
    path("cities/<slug:slug>/", views.city, name="city"),
    path("cities/<slug:slug>/events.ics", views.city_feed, name="city_feed"),
    path("cities/<slug:slug>/follow/", views.follow, name="follow"),
    path("cities/<slug:slug>/unfollow/", views.unfollow, name="unfollow"),
    path("unfollow/<str:token>/", views.unfollow_link, name="unfollow_link"),
]
