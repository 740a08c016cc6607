from .achievements import Achievement, MemberAchievement
from .campaigns import Campaign
from .leaderboard import LeaderboardDirtyMember, LeaderboardTotal
from .ledger import Activity, EarningRule, LedgerEntry, Member

__all__ = [
    "Achievement", "Activity", "Campaign", "EarningRule", "LeaderboardDirtyMember", "LeaderboardTotal", "LedgerEntry",
    "Member", "MemberAchievement",
]
