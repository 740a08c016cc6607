from django.urls import path

from points_bridge import api

# Included from config/urls.py under "api/v1/points/", first of the API. No trailing slashes, like the other APIs.
urlpatterns = [
    path("balance", api.BalanceView.as_view(), name="points-balance"),
    path("balance/<str:activity>", api.ActivityBalanceView.as_view(), name="points-activity-balance"),
    path("transactions", api.TransactionsView.as_view(), name="points-transactions"),
    path("leaderboard", api.LeaderboardView.as_view(), name="points-leaderboard"),
    path("claim", api.ClaimView.as_view(), name="points-claim"),
    path("add", api.AddView.as_view(), name="points-add"),
    path("remove", api.RemoveView.as_view(), name="points-remove"),
    path("members", api.MemberSearchView.as_view(), name="points-member-search"),
    path("members/resolve", api.MemberResolveView.as_view(), name="points-member-resolve"),
    path("me/code", api.MyCodeView.as_view(), name="points-my-code"),
    path("me/code/rotate", api.MyCodeRotateView.as_view(), name="points-my-code-rotate"),
]
