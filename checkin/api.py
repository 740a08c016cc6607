"""Check-in JSON API: the eventyay checkout endpoints, pretix's redeem, and the reading endpoints.

One view per operation: validate, fetch (with the organizer's rights), call one service, serialize.
"""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from checkin import qr, selectors, services
from checkin.auth import DeviceAuthentication, device_of
from checkin.errors import CheckinError, InvalidPosition, NoCheckinRights
from checkin.models import CheckinList, Event, Scan, Ticket
from checkin.presenters import (
    REASON_TEXT,
    attention,
    checkin_list_data,
    event_data,
    list_ref,
    position_data,
    scan_data,
    ticket_data,
)
from config.exceptions import api_exception_handler
from config.pagination import Pagination
from config.request_log import expected_refusal

MAX_ID = 2**63 - 1


def IdField(**kwargs):  # noqa: N802 - reads like the DRF field it builds
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def IdListField(**kwargs):  # noqa: N802
    return serializers.ListField(child=IdField(), max_length=1000, **kwargs)


def eventyay_exception_handler(exc, context):
    """The eventyay checkout endpoints answer errors as ``{"error": ..., "code": ...}``."""
    response = api_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": response.data["detail"], "code": response.data.get("code", "error")}
    return response


class OrganizerView(APIView):
    """Resolves ``<org>`` (and ``<event>``) and the caller's rights: 404 if unknown, 403 without rights.
    Staff log in with a token or a session; pretix-family scanner apps with their device token (last, so a
    plain ``Token`` header is never mistaken for one)."""

    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, DeviceAuthentication]

    def organizer(self, request, org: str):
        organizer, rights = selectors.organizer_for(request.user, org)
        if organizer is None:
            raise NotFound("Unknown organizer.")
        selectors.require_checkin(request.user, organizer, rights)
        return organizer, rights

    def event(self, request, org: str, event: str):
        organizer, rights = self.organizer(request, org)
        found = Event.objects.filter(organizer=organizer, slug=event).select_related("organizer").first()
        if found is None:
            raise NotFound("Unknown event.")
        if not selectors.device_allows(request.user, found.pk):
            raise NoCheckinRights("This device has no access to this event.")
        return found, rights

    @staticmethod
    def scanner(request) -> dict:
        """Who scans, for ``ScanRequest``: the device of a scanner app, else the logged-in user."""
        device = device_of(request.user)
        return {"device": device, "user": None} if device is not None else {"device": None, "user": request.user}

    def paginated(self, request, queryset, present):
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(present(page))


class EventsView(OrganizerView):
    @extend_schema(responses=dict, summary="Events of an organizer")
    def get(self, request, org: str):
        organizer, _ = self.organizer(request, org)
        qs = selectors.events_for_api(request.user, organizer)
        pretix = device_of(request.user) is not None
        return self.paginated(request, qs, lambda page: [event_data(e, pretix=pretix) for e in page])


class CheckinListsView(OrganizerView):
    @extend_schema(responses=dict, summary="Check-in lists of an event")
    def get(self, request, org: str, event: str):
        found, _ = self.event(request, org, event)
        qs = CheckinList.objects.filter(event=found).order_by("pk")
        return self.paginated(request, qs, lambda page: [checkin_list_data(c, found, counts=list_counts(c, found))
                                                         for c in page])


class ListStatusView(OrganizerView):
    @extend_schema(responses=dict, summary="Door statistics of a check-in list (exact, uncached)")
    def get(self, request, org: str, event: str, list_id: int):
        found, _ = self.event(request, org, event)
        clist = CheckinList.objects.filter(event=found, pk=list_id).select_related("event").first()
        if clist is None:
            raise NotFound("Unknown check-in list.")
        return Response(selectors.list_status(clist))


class TicketsView(OrganizerView):
    class QuerySerializer(serializers.Serializer):
        search = serializers.CharField(required=False, allow_blank=True, max_length=190, default="")
        checkin_list = IdField(required=False)

    @extend_schema(parameters=[QuerySerializer], responses=dict, summary="Search an event's tickets")
    def get(self, request, org: str, event: str):
        found, rights = self.event(request, org, event)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        clist = None
        if "checkin_list" in query.validated_data:
            clist = CheckinList.objects.filter(event=found, pk=query.validated_data["checkin_list"]).first()
            if clist is None:
                raise serializers.ValidationError({"checkin_list": ["Unknown check-in list for this event."]})
        qs = selectors.tickets_for_event(event=found, rights=rights, search=query.validated_data["search"],
                                         checkin_list=clist)
        list_ids = list(CheckinList.objects.filter(event=found).order_by("pk").values_list("pk", flat=True))

        def present(page):
            inside = selectors.inside_lists([t.pk for t in page])
            return [ticket_data(t, list_ids=list_ids, inside=inside.get(t.pk, set())) for t in page]

        return self.paginated(request, qs, present)


class TicketQRView(OrganizerView):
    """The ticket's secret as a QR code, for its organizer's staff and for the attendee it is linked to."""

    @extend_schema(responses={(200, "image/png"): bytes}, summary="A ticket's QR code (png or svg)")
    def get(self, request, org: str, event: str, ticket_id: int, fmt: str):
        organizer, rights = selectors.organizer_for(request.user, org)
        if organizer is None:
            raise NotFound("Unknown organizer.")
        tickets = Ticket.objects.filter(pk=ticket_id, event__slug=event, event__organizer=organizer)
        if not rights.checkin:
            # Without door rights only one's own tickets exist: a stranger gets the same 403 for an id that
            # exists and one that does not, so ticket ids cannot be probed.
            tickets = tickets.filter(member__user=request.user)
        ticket = tickets.first()
        if ticket is None:
            if not rights.checkin:
                raise NoCheckinRights("You have no access to this ticket.")
            raise NotFound("Unknown ticket.")
        return HttpResponse(qr.render(ticket.secret, kind=fmt), content_type=qr.CONTENT_TYPES[fmt])


class ScansView(OrganizerView):
    @extend_schema(responses=dict, summary="The scan log of an event (filterable)")
    def get(self, request, org: str, event: str):
        found, _ = self.event(request, org, event)
        qs = selectors.scans_for_event(event=found, filters=request.query_params)
        return self.paginated(request, qs, lambda page: [scan_data(s) for s in page])


class CheckoutSingleView(OrganizerView):
    class InputSerializer(serializers.Serializer):
        position_id = IdField()
        checkin_list_id = IdField()
        force = serializers.BooleanField(default=False)
        datetime = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def get_exception_handler(self):
        return eventyay_exception_handler

    @extend_schema(request=InputSerializer, responses=dict, summary="eventyay: check one attendee out")
    def post(self, request, org: str, event: str):
        found, _ = self.event(request, org, event)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        clist = CheckinList.objects.filter(event=found, pk=data["checkin_list_id"]).select_related("event").first()
        if clist is None:
            raise InvalidPosition("Unknown check-in list for this event.")
        req = services.ScanRequest(force=data["force"], at=data["datetime"], **self.scanner(request))
        result = services.checkout(ticket_id=data["position_id"], clist=clist, req=req)
        scan, ticket = result.scan, result.ticket
        if not scan.successful:
            message = ("This attendee is not currently checked in." if scan.error_reason == Scan.Reason.NOT_CHECKED_IN
                       else REASON_TEXT.get(scan.error_reason, "Refused."))
            expected_refusal(request)
            raise CheckinError(message, code=scan.error_reason)
        return Response({
            "status": "success", "checkout_id": scan.pk, "position_id": ticket.pk, "order_code": ticket.order_code,
            "attendee_name": ticket.attendee_name, "datetime": scan.datetime,
            "message": "Attendee checked out successfully",
        })


class CheckoutBulkView(OrganizerView):
    class InputSerializer(serializers.Serializer):
        checkin_lists = IdListField(required=False, default=list)
        # Accepted for eventyay compatibility; bulk checkout only ever touches people inside.
        force = serializers.BooleanField(default=False)
        datetime = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def get_exception_handler(self):
        return eventyay_exception_handler

    @extend_schema(request=InputSerializer, responses=dict, summary="eventyay: check everyone inside out")
    def post(self, request, org: str, event: str):
        found, _ = self.event(request, org, event)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        wanted = set(payload.validated_data["checkin_lists"])
        lists = list(CheckinList.objects.filter(event=found))
        if wanted:
            unknown = sorted(wanted - {c.pk for c in lists})
            if unknown:
                ids = ", ".join(map(str, unknown))
                raise CheckinError(f"Invalid checkin list IDs: {ids}", code="validation_error")
            lists = [c for c in lists if c.pk in wanted]
        result = services.bulk_checkout(event=found, lists=lists, at=payload.validated_data["datetime"],
                                        user=request.user)
        done = [{"position_id": r["ticket_id"], "order_code": r["ticket__order_code"],
                 "attendee_name": r["ticket__attendee_name"]} for r in result.checked_out]
        return Response({
            "status": "success",
            "results": {"success_count": len(done), "error_count": len(result.errors), "errors": result.errors,
                        "checked_out_positions": done},
            "message": f"Bulk checkout completed. {len(done)} attendees checked out, {len(result.errors)} errors.",
        })


def _plain_str(value, max_length: int, *, blank: bool) -> bool:
    """A string DRF's CharField would return unchanged (no trimming, no null or surrogate characters)."""
    return (type(value) is str and len(value) <= max_length and (blank or value != "") and value.isascii()
            and value == value.strip() and "\x00" not in value)


def _plain_ids(value) -> bool:
    return (type(value) is list and 1 <= len(value) <= 1000
            and all(type(i) is int and 1 <= i <= MAX_ID for i in value))


def fast_redeem_input(data) -> dict | None:
    """``RedeemView.InputSerializer``'s validated data for the plain JSON a scanner sends, without DRF's
    field machinery (about 1 ms per scan); None when anything is unusual, and the serializer then decides
    (so every 400 and its message stays the serializer's)."""
    if type(data) is not dict:
        return None
    get = data.get
    checks = (
        _plain_str(get("secret"), 190, blank=False) and _plain_ids(get("lists"))
        and get("type", "entry") in ("entry", "exit") and type(get("force", False)) is bool
        and (get("nonce") is None or _plain_str(get("nonce"), 190, blank=True))
        and get("datetime") is None
        and ("source_type" not in data or _plain_str(data["source_type"], 50, blank=False))
        and ("gate" not in data or _plain_str(data["gate"], 100, blank=True))
    )
    if not checks:
        return None
    return {"secret": data["secret"], "lists": data["lists"], "type": get("type", "entry"),
            "force": get("force", False), "nonce": get("nonce"), "datetime": None,
            "source_type": get("source_type", "barcode"), "gate": get("gate", "")}


class RedeemView(OrganizerView):
    class InputSerializer(serializers.Serializer):
        secret = serializers.CharField(max_length=190)
        lists = IdListField(min_length=1)
        type = serializers.ChoiceField(choices=Scan.Type.choices, default=Scan.Type.ENTRY)
        force = serializers.BooleanField(default=False)
        nonce = serializers.CharField(max_length=190, required=False, allow_null=True, allow_blank=True, default=None)
        datetime = serializers.DateTimeField(required=False, allow_null=True, default=None)
        source_type = serializers.CharField(max_length=50, required=False, default="barcode")
        gate = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=dict, summary="pretix: redeem a ticket secret (entry or exit)")
    def post(self, request, org: str):
        # The hot path: plain input, then organizer + rights + lists in one query. Anything unusual (odd
        # input, unknown lists, no rights) takes the general path below, which answers exactly as before:
        # 404/403 for the organizer first, then the serializer's 400, then unknown list ids.
        try:
            data = fast_redeem_input(request.data)
        except ParseError:
            self.organizer(request, org)
            raise
        if data is None:
            self.organizer(request, org)
            payload = self.InputSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
        req = services.ScanRequest(type=data["type"], force=data["force"], nonce=data["nonce"] or None,
                                   at=data["datetime"], gate=data["gate"], **self.scanner(request))
        result = None
        if len(set(data["lists"])) == 1:  # one list: its check and the ticket's locks are one statement
            result = services.redeem_checked(user=request.user, slug=org, list_id=data["lists"][0],
                                             secret=data["secret"], req=req)
        if result is not None:
            lists = [result.checkin_list]
        else:
            lists = selectors.redeem_lists(request.user, org, data["lists"])
            if lists is None:
                organizer, _ = self.organizer(request, org)
                lists = self.lists(organizer, data["lists"], user=request.user)
            result = services.redeem(secret=data["secret"], lists=lists, req=req)
        if not result.scan.successful:
            expected_refusal(request)  # a refused scan is the door working; the scan log keeps it
        return self.answer(result, lists)

    @staticmethod
    def lists(organizer, ids: list[int], *, user=None) -> list[CheckinList]:
        found = {c.pk: c for c in CheckinList.objects.filter(pk__in=ids, event__organizer=organizer)
                 .select_related("event") if selectors.device_allows(user, c.event_id)}
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise CheckinError(f"Invalid checkin list IDs: {', '.join(map(str, unknown))}", code="validation_error")
        return [found[i] for i in dict.fromkeys(ids)]

    @staticmethod
    def answer(result: services.ScanResult, lists: list[CheckinList]) -> Response:
        """pretix's redeem answer: ``require_attention`` and ``checkin_texts`` in every outcome."""
        scan, clist = result.scan, result.checkin_list
        flag, texts = attention(result.ticket)
        body = {"require_attention": flag, "checkin_texts": texts, "list": list_ref(clist)}
        if result.ticket is None:
            return Response({"detail": "Not found.", "status": "error", "reason": Scan.Reason.INVALID,
                             "reason_explanation": None, **body}, status=status.HTTP_404_NOT_FOUND)
        body["position"] = position_data(result.ticket, lists, checkins=result.checkins)
        if scan.successful:
            return Response({"status": "ok", **body}, status=status.HTTP_201_CREATED)
        return Response({"status": "error", "reason": scan.error_reason,
                         "reason_explanation": REASON_TEXT.get(scan.error_reason), **body},
                        status=status.HTTP_400_BAD_REQUEST)


def list_counts(clist: CheckinList, event: Event) -> dict:
    """pretix's read-only ``position_count`` and ``checkin_count`` of a list resource."""
    clist.event = event
    found = selectors.list_status(clist)
    return {"position_count": found["position_count"], "checkin_count": found["checkin_count"]}


class BenchPingView(APIView):
    """A bare authenticated DRF endpoint: the floor the door-scan benchmark compares against."""

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})
