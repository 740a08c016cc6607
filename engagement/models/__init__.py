from .achievements import Achievement, AchievementCategory, MemberAchievement
from .campaigns import Campaign
from .leaderboard import LeaderboardDirtyMember, LeaderboardTotal
from .ledger import Activity, EarningRule, LedgerEntry, Member
from .moderation import Ban, SpamReport, UnbanRequest
from .streaks import Streak, StreakFreezeUse

__all__ = [
    "Achievement", "AchievementCategory", "Activity", "Ban", "Campaign", "EarningRule", "LeaderboardDirtyMember",
    "LeaderboardTotal", "LedgerEntry", "Member", "MemberAchievement", "SpamReport", "Streak", "StreakFreezeUse",
    "UnbanRequest",
]
