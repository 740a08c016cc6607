"""django-filter FilterSets for the scan log API (applied in selectors, not in views)."""

import django_filters
from django import forms

from checkin.models import Scan

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A whole-number id; anything else (or out of the database's range) is a validation error."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class ScanFilter(django_filters.FilterSet):
    checkin_list = IdFilter(field_name="checkin_list_id")
    ticket = IdFilter(field_name="ticket_id")
    batch = IdFilter(field_name="batch_id")
    type = django_filters.ChoiceFilter(choices=Scan.Type.choices)
    error_reason = django_filters.ChoiceFilter(choices=Scan.Reason.choices)
    successful = django_filters.BooleanFilter()
    forced = django_filters.BooleanFilter()
    gate = django_filters.CharFilter()
    datetime_since = django_filters.IsoDateTimeFilter(field_name="datetime", lookup_expr="gte")
    datetime_until = django_filters.IsoDateTimeFilter(field_name="datetime", lookup_expr="lt")
    # pretix's check-in history names.
    list = IdFilter(field_name="checkin_list_id")
    device = IdFilter(field_name="device_id")
    datetime_before = django_filters.IsoDateTimeFilter(field_name="datetime", lookup_expr="lt")
    created_since = django_filters.IsoDateTimeFilter(field_name="server_datetime", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="server_datetime", lookup_expr="lt")
    auto_checked_in = django_filters.BooleanFilter(method="_auto")

    def _auto(self, queryset, name, value):
        return queryset.none() if value else queryset  # no scan of ours is automatic

    class Meta:
        model = Scan
        fields = []
