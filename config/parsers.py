"""One guard for every request body, so that no text can reach the database that it would refuse.

PostgreSQL refuses NUL (U+0000) in text and jsonb, and psycopg cannot encode a lone surrogate
(U+D800–U+DFFF, which JSON's ``\\ud800`` escape produces); both used to surface as a 500 wherever a
free-form field (``meta``, reward ``metadata``, a Point System ``description``) went straight to a
column. SQLite stores both, so checking per field would also make the two databases disagree. We
refuse such strings once, at parse time, anywhere in the body (keys included), with 400
``invalid_characters``; nothing that follows (serializers, services, the database) ever sees them.

JSON nested deeper than any client of ours needs is refused the same way (400 ``json_too_deep``):
Python's parser gives up with RecursionError somewhere near 1,000 levels (a 500 before this guard),
and anything that did parse would have to be walked again by serializers and the database driver.

These parsers are DRF's ``DEFAULT_PARSER_CLASSES``; the Point System protocol, which parses its own
bodies, uses ``parse_json``; config/forms.py has the admin's JSON field. config/middleware.py applies
``refuse_bad_text`` to the path, the query string and the headers.
"""

import json
import re

from rest_framework import parsers

from config.errors import DomainError

MAX_JSON_DEPTH = 32
_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


class InputRefused(DomainError):
    """Input we refuse before it reaches any view logic (400)."""

    default_code = "invalid_input"


def refuse_bad_text(text: str, where: str = "The request") -> None:
    if _BAD_CHARACTERS.search(text):
        raise InputRefused(f"{where} contains a NUL character or a lone surrogate, which we cannot store.",
                           code="invalid_characters")


def _too_deep() -> InputRefused:
    return InputRefused(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.", code="json_too_deep")


def check_json(value) -> None:
    """Walk a parsed JSON value without recursion: bounded depth, and no bad text in keys or strings."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            refuse_bad_text(item, "The request body")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(item, dict):
            for key in item:
                refuse_bad_text(key, "The request body")
            stack.extend((v, depth + 1) for v in item.values())
        else:
            stack.extend((v, depth + 1) for v in item)


def parse_json(raw: bytes | str):
    """``json.loads`` plus the checks above. Malformed JSON still raises ValueError for the caller."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    check_json(data)
    return data


def check_form(data) -> None:
    """Field names and values of a parsed form (a QueryDict); uploaded files are left to their fields."""
    for key, values in data.lists():
        refuse_bad_text(key, "The request body")
        for value in values:
            if isinstance(value, str):
                refuse_bad_text(value, "The request body")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # DRF catches only ValueError; this one was a 500
            raise _too_deep() from None
        check_json(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        check_form(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        check_form(result.data)
        return result
