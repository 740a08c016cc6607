from django.urls import path

from points_bridge import views

# Pages stay off the protocol's prefixes (/points/..., /leaderboard/...).
urlpatterns = [
    path("claim/", views.claim_page, name="bridge-claim"),
    path("staff/attribution/", views.staff_attribution, name="bridge-staff-attribution"),
    path("board/", views.board, name="bridge-board"),
    path("me/points/", views.my_points, name="bridge-my-points"),
    path("me/points/rotate-code/", views.rotate_my_code, name="bridge-rotate-my-code"),
    path("staff/claim-templates/<int:pk>/qr.png", views.template_qr, {"fmt": "png"}, name="bridge-template-qr-png"),
    path("staff/claim-templates/<int:pk>/qr.svg", views.template_qr, {"fmt": "svg"}, name="bridge-template-qr-svg"),
    path("staff/claim-sheet/", views.claim_sheet, name="bridge-claim-sheet"),
]
