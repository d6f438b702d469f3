from django.urls import path

from events import views

app_name = "events"

urlpatterns = [
    path("", views.home, name="home"),
    path("events/<slug:slug>/", views.event_detail, name="detail"),
    path("events/<slug:slug>/register/", views.register, name="register"),
    path("registrations/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("release/<str:token>/", views.release, name="release"),
    path("me/", views.my_registrations, name="my_registrations"),
    path("me/tickets/<str:code>/", views.ticket, name="ticket"),
]
