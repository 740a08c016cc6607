from .achievements import Achievement, MemberAchievement
from .campaigns import Campaign
from .leaderboard import LeaderboardBucket, LeaderboardDirtyMember, LeaderboardTotal
from .ledger import Activity, EarningRule, LedgerEntry, Member
from .moderation import Ban, SpamReport, UnbanRequest

__all__ = [
    "Achievement", "Activity", "Ban", "Campaign", "EarningRule", "LeaderboardBucket", "LeaderboardDirtyMember",
    "LeaderboardTotal", "LedgerEntry", "Member", "MemberAchievement", "SpamReport", "UnbanRequest",
]
