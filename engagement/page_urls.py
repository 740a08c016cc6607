from django.urls import path

from engagement import pages, referral_pages

urlpatterns = [
    path("me/", pages.fan_zone, name="fan-zone"),
    path("join/<str:code>/", referral_pages.join, name="referral-join"),
]
