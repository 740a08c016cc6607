from django.urls import path

from checkin import views

urlpatterns = [
    path("door/", views.door, name="checkin-door"),
    path("door/stats/", views.door_stats, name="checkin-door-stats"),
    path("door/stats/arrivals/<int:list_id>/", views.door_arrivals, name="checkin-door-arrivals"),
]
