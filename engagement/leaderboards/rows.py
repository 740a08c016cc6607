"""What a leaderboard row shows about its member, as plain values rather than model instances.

Building 100 ``Member`` + ``User`` objects cost more than finding the 100 members (measured at 1M
members: ~5 ms of a ~7 ms top-100), so the sources select exactly the display columns below in the
query that finds the rows (or, for Redis ids, in one ``values_list`` query) and rows carry a
``RowMember``. It answers the attributes that templates and callers read from ``row.member``
(``pk``, ``user_id``, ``display_name``) like a Member would.
"""

from dataclasses import dataclass

from engagement.models import Member

# Columns of Member (prefix "" ) or of a row pointing at one (prefix "member__"), in RowMember's order.
DISPLAY_FIELDS = (
    "id", "user_id", "level", "username", "avatar_url", "animated_avatar_url",
    "user__username", "user__first_name", "user__last_name", "user__email", "user__is_staff", "user__is_superuser",
)
# The member's own balances (global rows show them, whatever source found the row) and visibility.
STATE_FIELDS = ("points", "xp", "show_on_leaderboard", "banned")


def display_columns(prefix: str = "") -> list[str]:
    return [f"{prefix}{name}" for name in DISPLAY_FIELDS]


@dataclass(frozen=True, slots=True)
class RowMember:
    pk: int
    user_id: int
    level: int
    username: str
    avatar_url: str
    animated_avatar_url: str
    login: str
    first_name: str
    last_name: str
    email: str
    is_staff: bool
    is_superuser: bool

    @property
    def id(self) -> int:
        return self.pk

    @property
    def display_name(self) -> str:
        return self.username or self.login

    @property
    def role(self) -> str:
        return "admin" if self.is_superuser else "staff" if self.is_staff else "member"

    def __str__(self) -> str:
        return self.display_name


def row_member(values) -> RowMember:
    """A RowMember from a tuple of DISPLAY_FIELDS values, in that order."""
    return RowMember(*values)


def row_member_of(member: Member) -> RowMember:
    """The same for a Member instance already in hand (the viewer's own row): from its loaded user, or
    with one query for the display columns rather than loading a User instance."""
    if not Member.user.is_cached(member):
        return row_member(Member.objects.filter(pk=member.pk).values_list(*display_columns()).get())
    user = member.user
    return RowMember(member.pk, member.user_id, member.level, member.username, member.avatar_url,
                     member.animated_avatar_url, user.get_username(), user.first_name, user.last_name, user.email,
                     user.is_staff, user.is_superuser)
