from django.urls import path

from checkin.navigation import LoginView

# Included from config/urls.py at accounts/login/.
urlpatterns = [path("", LoginView.as_view(), name="login")]
