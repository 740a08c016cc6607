from .achievements import Achievement, AchievementCategory, MemberAchievement
from .campaigns import Campaign
from .challenges import Challenge, ChallengeCompletion
from .leaderboard import LeaderboardBucket, LeaderboardDirtyMember, LeaderboardTotal
from .ledger import Activity, EarningRule, LedgerEntry, Member
from .moderation import Ban, SpamReport, UnbanRequest
from .referrals import Referral, ReferralCode
from .seasons import Season, SeasonStanding, Team, TeamMembership
from .streaks import Streak, StreakFreezeGrant, StreakFreezeUse

__all__ = [
    "Achievement", "AchievementCategory", "Activity", "Ban", "Campaign", "Challenge", "ChallengeCompletion",
    "EarningRule", "LeaderboardBucket", "LeaderboardDirtyMember", "LeaderboardTotal", "LedgerEntry", "Member",
    "MemberAchievement", "Referral", "ReferralCode", "Season", "SeasonStanding", "SpamReport", "Streak",
    "StreakFreezeGrant", "StreakFreezeUse", "Team", "TeamMembership", "UnbanRequest",
]
