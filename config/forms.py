"""Form fields shared by the admin. JSON typed into an admin form never passes the API's body parser
(config/parsers.py), so the same check happens here: a NUL or a lone surrogate (written as a
``\\u0000``/``\\ud800`` escape) is a form error, and the form shows the text as it was typed. Django's
own field would re-render the decoded surrogate and fail to encode the page, a 500 either way."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.fields import InvalidJSONInput

from config.parsers import InputRefused, check_json


class JSONField(forms.JSONField):
    def to_python(self, value):
        converted = super().to_python(value)
        try:
            check_json(converted)
        except InputRefused as exc:
            raise ValidationError(exc.message, code=exc.code) from None
        return converted

    def bound_data(self, data, initial):
        value = super().bound_data(data, initial)
        try:
            check_json(value)
        except InputRefused:
            return InvalidJSONInput(data)
        return value
