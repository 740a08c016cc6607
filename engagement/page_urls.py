from django.urls import path

from engagement import pages

urlpatterns = [
    path("me/", pages.fan_zone, name="fan-zone"),
]
