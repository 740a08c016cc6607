"""The events endpoint's plain validation and the entry's hand-built representation give exactly what
the DRF serializers they bypass would give."""

import datetime

import pytest
from rest_framework import serializers

from engagement import services
from engagement.api import EventsView, _plain_event
from engagement.models import Activity
from engagement.serializers import EntrySerializer

BODIES = [
    {"user_id": 5, "reason": "comment_create"},
    {"user_id": 5, "reason": "comment_create", "meta": {"a": [1, {"b": None}]}, "idempotency_key": "k-1"},
    {"user_id": 5, "reason": "a" * 64, "idempotency_key": "x" * 120, "meta": {}},
    {"user_id": 5, "reason": "Comment-Create_2", "idempotency_key": "", "extra": 1},
    {"user_id": 5, "reason": "ümlaut"},
    {"user_id": 5, "reason": "a" * 65},
    {"user_id": 5, "reason": ""},
    {"user_id": 5, "reason": " padded "},
    {"user_id": 5, "reason": "trailing\n"},
    {"user_id": 5, "reason": "has space"},
    {"user_id": 5, "reason": 12},
    {"user_id": 5, "reason": None},
    {"user_id": 5},
    {"reason": "comment_create"},
    {"user_id": 0, "reason": "comment_create"},
    {"user_id": -3, "reason": "comment_create"},
    {"user_id": "5", "reason": "comment_create"},
    {"user_id": 5.0, "reason": "comment_create"},
    {"user_id": True, "reason": "comment_create"},
    {"user_id": None, "reason": "comment_create"},
    {"user_id": 5, "reason": "comment_create", "meta": None},
    {"user_id": 5, "reason": "comment_create", "meta": [1]},
    {"user_id": 5, "reason": "comment_create", "meta": "{}"},
    {"user_id": 5, "reason": "comment_create", "idempotency_key": " k "},
    {"user_id": 5, "reason": "comment_create", "idempotency_key": "x" * 121},
    {"user_id": 5, "reason": "comment_create", "idempotency_key": None},
    {"user_id": 5, "reason": "comment_create", "idempotency_key": 7},
    [],
    "text",
]


@pytest.mark.parametrize("body", BODIES)
def test_plain_event_accepts_only_what_the_serializer_accepts_unchanged(body):
    fast = _plain_event(body)
    payload = EventsView.InputSerializer(data=body)
    if fast is None:
        return  # the view then runs the serializer itself
    assert payload.is_valid(), payload.errors
    assert fast == dict(payload.validated_data)


def test_plain_event_takes_the_usual_bodies():
    assert _plain_event({"user_id": 5, "reason": "comment_create"}) == {
        "user_id": 5, "reason": "comment_create", "meta": {}}
    assert _plain_event({"user_id": 5, "reason": "r", "idempotency_key": "k"})["idempotency_key"] == "k"


@pytest.mark.django_db
@pytest.mark.parametrize("with_activity", [False, True])
def test_entry_representation_is_the_model_serializers(member, with_activity):
    activity = Activity.objects.create(name="Gym", slug="gym") if with_activity else None
    entry = services.award(member=member, reason="manual", points=3, xp=2, activity=activity,
                           meta={"note": "ü", "n": [1, 2]}, idempotency_key="rep-1",
                           at=datetime.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=datetime.UTC))
    from engagement.models import LedgerEntry

    for instance in (entry, LedgerEntry.objects.select_related("member").get(pk=entry.pk)):
        expected = serializers.ModelSerializer.to_representation(EntrySerializer(), instance)
        assert EntrySerializer(instance).data == expected
        assert list(EntrySerializer(instance).data) == list(expected)
        assert EntrySerializer([instance], many=True).data == [expected]
