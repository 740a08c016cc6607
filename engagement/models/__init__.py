from .achievements import Achievement, MemberAchievement
from .campaigns import Campaign
from .challenges import Challenge, ChallengeCompletion
from .leaderboard import LeaderboardDirtyMember, LeaderboardTotal
from .ledger import Activity, EarningRule, LedgerEntry, Member
from .moderation import Ban, SpamReport, UnbanRequest
from .referrals import Referral, ReferralCode

__all__ = [
    "Achievement", "Activity", "Ban", "Campaign", "Challenge", "ChallengeCompletion", "EarningRule",
    "LeaderboardDirtyMember", "LeaderboardTotal",
    "LedgerEntry", "Member", "MemberAchievement", "Referral", "ReferralCode", "SpamReport", "UnbanRequest",
]
