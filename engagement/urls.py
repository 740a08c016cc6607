from django.urls import path

from engagement import api, api_moderation, api_seasons
from engagement.api_achievements import AchievementsView
from engagement.api_challenges import ChallengesView
from engagement.api_referrals import ReferralView
from engagement.api_streaks import AdminStreakFreezesView, StreakView

# Paths exactly as the engagement contract spells them (no trailing slash, never redirected).
urlpatterns = [
    path("auth/token", api.TokenView.as_view(), name="auth-token"),
    path("engagement/profile", api.ProfileView.as_view(), name="engagement-profile"),
    path("engagement/username-suggestions", api.UsernameSuggestionsView.as_view(),
         name="engagement-username-suggestions"),
    path("engagement/avatar", api.AvatarView.as_view(), name="engagement-avatar"),
    path("engagement/avatar/upload", api.AvatarUploadView.as_view(), name="engagement-avatar-upload"),
    path("engagement/transactions", api.TransactionsView.as_view(), name="engagement-transactions"),
    path("engagement/events", api.EventsView.as_view(), name="engagement-events"),
    path("engagement/achievements", AchievementsView.as_view(), name="engagement-achievements"),
    path("engagement/challenges", ChallengesView.as_view(), name="engagement-challenges"),
    path("engagement/leaderboard", api.LeaderboardView.as_view(), name="engagement-leaderboard"),
    path("engagement/referral", ReferralView.as_view(), name="engagement-referral"),
    path("engagement/seasons", api_seasons.SeasonsView.as_view(), name="engagement-seasons"),
    path("engagement/streak", StreakView.as_view(), name="engagement-streak"),
    path("engagement/teams", api_seasons.TeamsView.as_view(), name="engagement-teams"),
    path("engagement/unban-request", api_moderation.UnbanRequestView.as_view(), name="engagement-unban-request"),
    path("admin/engagement/members/<int:user_id>/ban", api_moderation.AdminBanView.as_view(),
         name="admin-engagement-member-ban"),
    path("admin/engagement/members/<int:user_id>/streak-freezes", AdminStreakFreezesView.as_view(),
         name="admin-engagement-member-streak-freezes"),
    path("admin/engagement/leaderboard", api.AdminLeaderboardView.as_view(), name="admin-engagement-leaderboard"),
    path("admin/engagement/transactions", api.AdminTransactionsView.as_view(), name="admin-engagement-transactions"),
    path("admin/engagement/adjust", api.AdminAdjustView.as_view(), name="admin-engagement-adjust"),
    path("admin/engagement/profile/<int:user_id>", api.AdminProfileView.as_view(), name="admin-engagement-profile"),
]
