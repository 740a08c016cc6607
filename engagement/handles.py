"""Username suggestions from a first and last name (``GET /engagement/username-suggestions``).

Candidates are built from the names folded to ASCII (``Jiří Nováček`` → ``jiri``, ``novacek``) and each
goes through ``profiles.validate_username``, so a suggestion honours every rule a chosen username must
(length, characters, specials, reserved words, ``fan-<id>``, uniqueness) at the time it is made.
"""

import re
import unicodedata

from engagement.errors import ProfileError
from engagement.models import Member
from engagement.profiles import validate_username

MAX_SUGGESTIONS = 5
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Lower-case ASCII letters and digits only; accents dropped, everything else removed."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_ALLOWED.sub("", ascii_text.lower())


def _candidates(first: str, last: str, *, seed: int) -> list[str]:
    names = [name for name in (first, last) if name]
    base = []
    if first and last:
        base = [f"{first}.{last}", f"{first}-{last}", f"{first}_{last}", f"{first[0]}{last}", f"{last}.{first}"]
    elif names:
        base = [names[0]]
    numbered = [f"{stem}{n}" for stem in (base[:2] or ["fan"]) for n in (seed % 100, seed % 1000 + 7, 2026)]
    return base + numbered


def suggest(*, first_name: str, last_name: str, member: Member | None = None, limit: int = MAX_SUGGESTIONS
            ) -> list[str]:
    """Up to ``limit`` usernames that are valid and free now (a later taker still meets the unique index)."""
    first, last = _fold(first_name)[:20], _fold(last_name)[:20]
    seed = member.user_id if member is not None else 0
    found: list[str] = []
    for candidate in _candidates(first, last, seed=seed):
        try:
            name = validate_username(candidate, member=member)
        except ProfileError:
            continue
        if name not in found:
            found.append(name)
        if len(found) == limit:
            break
    return found
