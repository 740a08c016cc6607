"""``{{ value|compact }}``: large numbers on pages as the club specification shows them (1.2k, 3.4M).

Rounded down, never up, so a page never shows more points than a member has (1,999 is "1.9k"). The
API always serves exact numbers; pages keep the exact one in a ``title`` where it matters.
"""

from django import template

register = template.Library()
_STEPS = ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k"))


@register.filter
def compact(value) -> str:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return value
    sign, number = ("-" if number < 0 else ""), abs(number)
    for size, suffix in _STEPS:
        if number >= size:
            tenths = number * 10 // size  # floor to one decimal
            whole, tenth = divmod(tenths, 10)
            return f"{sign}{whole}{'.' + str(tenth) if tenth else ''}{suffix}"
    return f"{sign}{number}"
