from .achievements import Achievement, MemberAchievement
from .campaigns import Campaign
from .challenges import Challenge, ChallengeCompletion
from .leaderboard import LeaderboardDirtyMember, LeaderboardTotal
from .ledger import Activity, EarningRule, LedgerEntry, Member
from .moderation import Ban, SpamReport, UnbanRequest
from .referrals import Referral, ReferralCode
from .seasons import Season, SeasonStanding, Team, TeamMembership

__all__ = [
    "Achievement", "Activity", "Ban", "Campaign", "Challenge", "ChallengeCompletion", "EarningRule",
    "LeaderboardDirtyMember", "LeaderboardTotal", "LedgerEntry", "Member", "MemberAchievement", "Referral",
    "ReferralCode", "Season", "SeasonStanding", "SpamReport", "Team", "TeamMembership", "UnbanRequest",
]
