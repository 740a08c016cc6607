"""The endpoints pretix-family scanner apps (pretixSCAN, eventyay) call beyond ``checkinrpc/redeem``: device
provisioning, the offline download (events, items, lists, positions with ``modified_since``), per-list
redeem, search, failed scans and the check-in history. Shapes: pretix's documented REST API; facts, not
code. One view per operation, as in ``checkin.api``.
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from checkin import annulment, devices, selectors, services
from checkin.api import IdField, IdListField, OrganizerView, RedeemView, list_counts
from checkin.auth import DeviceAuthentication, device_of
from checkin.errors import NoCheckinRights
from checkin.items import items_for_event
from checkin.models import CheckinList, Device, RevokedSecret, Scan, Ticket, TicketType
from checkin.presenters import checkin_list_data, event_data, item_data, order_data, position_data, scan_data
from config.request_log import expected_refusal

SERVER_VERSION = "2025.1.0"  # the pretix API level we follow; apps gate features on it
SERVER_VERSION_NUMERIC = 20250100000
# ``X-Page-Generated`` is this much earlier than the read: a scan whose transaction started before the read
# and committed after it (its ``modified`` is its start) is then in the next ``modified_since`` download.
SYNC_OVERLAP = timedelta(seconds=10)


class Pages(PageNumberPagination):
    """pretix's paging: ``?page=`` with ``count``/``next``/``previous``/``results``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000


def _paged(view, request, queryset, present, *, generated=None) -> Response:
    paginator = Pages()
    page = paginator.paginate_queryset(queryset, request, view=view)
    response = paginator.get_paginated_response(present(page))
    if generated is not None:
        response["X-Page-Generated"] = generated.isoformat()
    return response


# --- Device authentication ---------------------------------------------------------------------------


def _device_body(device: Device, api_token: str | None = None) -> dict:
    body = {"organizer": device.organizer.slug, "device_id": device.device_id, "unique_serial": device.unique_serial,
            "name": device.name, "gate": {"id": None, "name": device.gate} if device.gate else None,
            "security_profile": "full"}
    if api_token is not None:
        body["api_token"] = api_token
    return body


class DeviceView(APIView):
    """Calls only a device can make, about itself (``Authorization: Device <token>``)."""

    authentication_classes = [DeviceAuthentication]

    def device(self, request) -> Device:
        device = device_of(request.user)
        if device is None:  # unreachable with the authentication class above; kept as the guard it is
            raise NoCheckinRights("Device token required.")
        return device


class SoftwareSerializer(serializers.Serializer):
    hardware_brand = serializers.CharField(max_length=190, required=False, allow_blank=True, default="")
    hardware_model = serializers.CharField(max_length=190, required=False, allow_blank=True, default="")
    software_brand = serializers.CharField(max_length=190, required=False, allow_blank=True, default="")
    software_version = serializers.CharField(max_length=190, required=False, allow_blank=True, default="")
    os_name = serializers.CharField(max_length=190, required=False, allow_blank=True, default="")
    os_version = serializers.CharField(max_length=190, required=False, allow_blank=True, default="")


class DeviceInitializeView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    class InputSerializer(SoftwareSerializer):
        token = serializers.CharField(max_length=190)

    @extend_schema(request=InputSerializer, responses=dict, summary="pretix: initialize a scanner device")
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        issued = devices.initialize(token=payload.validated_data["token"], info=payload.validated_data)
        return Response(_device_body(issued.device, issued.token))


class DeviceUpdateView(DeviceView):
    @extend_schema(request=SoftwareSerializer, responses=dict, summary="pretix: a device reports its software")
    def post(self, request):
        payload = SoftwareSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return Response(_device_body(devices.update_info(device=self.device(request), info=payload.validated_data)))


class DeviceRollView(DeviceView):
    @extend_schema(request=None, responses=dict, summary="pretix: a device gets a new API token")
    def post(self, request):
        issued = devices.roll(device=self.device(request))
        return Response(_device_body(issued.device, issued.token))


class DeviceRevokeView(DeviceView):
    @extend_schema(request=None, responses=dict, summary="pretix: a device revokes its own API token")
    def post(self, request):
        devices.revoke(device=self.device(request))
        return Response({"status": "ok"})


def _version() -> dict:
    return {"pretix": SERVER_VERSION, "pretix_numeric": SERVER_VERSION_NUMERIC, "plaudit": True}


class DeviceInfoView(DeviceView):
    @extend_schema(responses=dict, summary="pretix: what the server knows about this device")
    def get(self, request):
        return Response({"device": _device_body(self.device(request)), "server": {"version": _version()},
                         "medium_key_sets": []})


class VersionView(OrganizerView):
    @extend_schema(responses=dict, summary="pretix: the API level this server speaks")
    def get(self, request):
        return Response(_version())


# --- Offline download --------------------------------------------------------------------------------


class EventDetailView(OrganizerView):
    @extend_schema(operation_id="v1_organizers_events_detail", responses=dict,
                   summary="One event (pretix's event resource, plus Plaudit's fields)")
    def get(self, request, org: str, event: str):
        found, _ = self.event(request, org, event)
        return Response(event_data(found, pretix=device_of(request.user) is not None))


class ItemsView(OrganizerView):
    @extend_schema(responses=dict, summary="pretix: the event's items (Plaudit's ticket types)")
    def get(self, request, org: str, event: str):
        found, _ = self.event(request, org, event)
        names = Ticket.objects.filter(event=found).values_list("ticket_type", flat=True).distinct().order_by()
        items_for_event(found.pk, list(names))  # every type in use gets its stable id before we list them
        qs = TicketType.objects.filter(event=found).order_by("pk")
        return _paged(self, request, qs, lambda page: [item_data(t) for t in page])


class ListMixin:
    def clist(self, request, org: str, event: str, list_id: int):
        found, rights = self.event(request, org, event)
        clist = CheckinList.objects.filter(event=found, pk=list_id).select_related("event").first()
        if clist is None:
            raise NotFound("Unknown check-in list.")
        return clist, rights


class CheckinListDetailView(ListMixin, OrganizerView):
    @extend_schema(operation_id="v1_organizers_events_checkinlists_detail", responses=dict,
                   summary="pretix: one check-in list with its counts")
    def get(self, request, org: str, event: str, list_id: int):
        clist, _ = self.clist(request, org, event, list_id)
        return Response(checkin_list_data(clist, clist.event, counts=list_counts(clist, clist.event)))


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes")


def present_positions(tickets: list[Ticket], clist: CheckinList, *, pdf_data: bool = False) -> list[dict]:
    found = selectors.checkins_by_ticket(ticket_ids=[t.pk for t in tickets], list_ids=[clist.pk])
    for ticket in tickets:
        ticket.event = clist.event
    return [position_data(t, [clist], checkins=found[t.pk], pdf_data=pdf_data) for t in tickets]


class ListPositionsView(ListMixin, OrganizerView):
    class QuerySerializer(serializers.Serializer):
        search = serializers.CharField(required=False, allow_blank=True, max_length=190, default="")
        modified_since = serializers.DateTimeField(required=False, default=None)
        ignore_status = serializers.CharField(required=False, default="", max_length=10)
        pdf_data = serializers.CharField(required=False, default="", max_length=10)

    @extend_schema(parameters=[QuerySerializer], responses=dict,
                   summary="pretix: a list's positions, paged, optionally only those modified since")
    def get(self, request, org: str, event: str, list_id: int):
        generated = timezone.now() - SYNC_OVERLAP
        clist, rights = self.clist(request, org, event, list_id)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        qs = selectors.positions_for_list(clist=clist, search=data["search"], modified_since=data["modified_since"],
                                          include_canceled=_flag(data["ignore_status"]), rights=rights)
        pdf = _flag(data["pdf_data"])
        return _paged(self, request, qs, lambda page: present_positions(page, clist, pdf_data=pdf),
                      generated=generated)


class ListPositionView(ListMixin, OrganizerView):
    @extend_schema(operation_id="v1_organizers_events_checkinlists_positions_detail", responses=dict,
                   summary="pretix: one position as this list sees it")
    def get(self, request, org: str, event: str, list_id: int, position: int):
        clist, _ = self.clist(request, org, event, list_id)
        ticket = Ticket.objects.filter(event=clist.event, pk=position).first()
        if ticket is None:
            raise NotFound("Unknown position.")
        return Response(present_positions([ticket], clist, pdf_data=_flag(request.query_params.get("pdf_data")))[0])


class OrdersView(OrganizerView):
    """pretix's orders, as scanner apps download them for their offline copy: the tickets sharing an order
    code are one order, its positions numbered in ticket order, with check-ins on every list."""

    class QuerySerializer(serializers.Serializer):
        modified_since = serializers.DateTimeField(required=False, default=None)
        pdf_data = serializers.CharField(required=False, default="", max_length=10)

    @extend_schema(parameters=[QuerySerializer], responses=dict, summary="pretix: orders (one per ticket)")
    def get(self, request, org: str, event: str):
        generated = timezone.now() - SYNC_OVERLAP
        found, rights = self.event(request, org, event)
        if not rights.manage:
            raise NoCheckinRights("Listing every order needs manage rights.")
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since, pdf = query.validated_data["modified_since"], _flag(query.validated_data["pdf_data"])
        qs = selectors.orders_for_event(event=found, modified_since=since)
        lists = list(CheckinList.objects.filter(event=found).order_by("pk"))

        def present(page):
            orders = selectors.order_tickets(event=found, codes=[row["order_code"] for row in page])
            tickets = [t for group in orders.values() for t in group]
            checkins = selectors.checkins_by_ticket(ticket_ids=[t.pk for t in tickets], list_ids=[c.pk for c in lists])
            for ticket in tickets:
                ticket.event = found
            return [order_data(group, [position_data(t, lists, checkins=checkins[t.pk], pdf_data=pdf, positionid=n)
                                       for n, t in enumerate(group, start=1)]) for group in orders.values()]

        return _paged(self, request, qs, present, generated=generated)


class RevokedSecretsView(OrganizerView):
    @extend_schema(responses=dict, summary="pretix: revoked ticket codes, for offline scanners")
    def get(self, request, org: str, event: str):
        found, _ = self.event(request, org, event)
        qs = RevokedSecret.objects.filter(ticket__event=found).order_by("pk")
        return _paged(self, request, qs, lambda page: [{"id": r.pk, "secret": r.secret, "created": r.created}
                                                       for r in page])


class EmptyListView(OrganizerView):
    """Resources pretix has and Plaudit does not (categories, questions, sub-events, blocked secrets, badge
    layouts): an empty page, so an app's sync finds nothing instead of failing on a 404."""

    @extend_schema(responses=dict, summary="pretix: a resource Plaudit does not have (always empty)")
    def get(self, request, org: str, event: str):
        self.event(request, org, event)
        return Response({"count": 0, "next": None, "previous": None, "results": []})


# --- Scanning ----------------------------------------------------------------------------------------


class ListRedeemView(ListMixin, OrganizerView):
    """pretix's older per-list redeem: the position by id, or by secret (always by secret with
    ``untrusted_input=true``, which scanner apps send so ids cannot be guessed)."""

    class InputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=Scan.Type.choices, default=Scan.Type.ENTRY)
        force = serializers.BooleanField(default=False)
        nonce = serializers.CharField(max_length=190, required=False, allow_null=True, allow_blank=True, default=None)
        datetime = serializers.DateTimeField(required=False, allow_null=True, default=None)

    @extend_schema(request=InputSerializer, responses=dict, summary="pretix: redeem on one list by id or secret")
    def post(self, request, org: str, event: str, list_id: int, position: str):
        clist, _ = self.clist(request, org, event, list_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        req = services.ScanRequest(type=data["type"], force=data["force"], nonce=data["nonce"] or None,
                                   at=data["datetime"], **self.scanner(request))
        # The code read comes in the path here: the same checks as redeem's ``secret`` (length, no NUL).
        position = serializers.CharField(max_length=190).run_validation(position)
        by_id = position.isdigit() and not _flag(request.query_params.get("untrusted_input"))
        if by_id and Ticket.objects.filter(event=clist.event, pk=int(position)).exists():
            result = services.redeem_position(ticket_id=int(position), clist=clist, req=req)
        else:
            result = services.redeem(secret=position[:190], lists=[clist], req=req)
        if not result.scan.successful:
            expected_refusal(request)
        return RedeemView.answer(result, [clist])


class SearchView(OrganizerView):
    @extend_schema(responses=dict, summary="pretix: search positions on one or more lists")
    def get(self, request, org: str):
        organizer, rights = self.organizer(request, org)
        ids = IdListField(min_length=1).run_validation(request.query_params.getlist("list"))
        lists = RedeemView.lists(organizer, ids, user=request.user)
        search = request.query_params.get("search", "")[:190]
        querysets = [selectors.positions_for_list(clist=c, search=search, rights=rights) for c in lists]
        qs = querysets[0].union(*querysets[1:]).order_by("pk") if len(querysets) > 1 else querysets[0]
        by_event = {c.event_id: c for c in lists}
        list_ids = [c.pk for c in lists]

        def present(page):
            found = selectors.checkins_by_ticket(ticket_ids=[t.pk for t in page], list_ids=list_ids)
            for ticket in page:
                ticket.event = by_event[ticket.event_id].event
            return [position_data(t, lists, checkins=found[t.pk]) for t in page]

        return _paged(self, request, qs, present)


class AnnulView(OrganizerView):
    class InputSerializer(serializers.Serializer):
        lists = IdListField(min_length=1)
        nonce = serializers.CharField(max_length=190)
        datetime = serializers.DateTimeField(required=False, allow_null=True, default=None)
        error_explanation = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses=dict, summary="pretix: annul a check-in that did not happen")
    def post(self, request, org: str):
        organizer, _ = self.organizer(request, org)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        lists = RedeemView.lists(organizer, data["lists"], user=request.user)
        # error_explanation is accepted and not stored: the log keeps the reason code "annulled".
        annulment.annul(lists=lists, nonce=data["nonce"], at=data["datetime"], **self.scanner(request))
        return Response({"status": "ok"})


class FailedCheckinsView(ListMixin, OrganizerView):
    REASONS = ["canceled", "invalid", "unpaid", "product", "rules", "revoked", "incomplete", "already_redeemed",
               "ambiguous", "error", "blocked", "unapproved", "invalid_time"]

    class InputSerializer(serializers.Serializer):
        error_reason = serializers.ChoiceField(choices=[])
        raw_barcode = serializers.CharField(max_length=2000)
        datetime = serializers.DateTimeField(required=False, allow_null=True, default=None)
        type = serializers.ChoiceField(choices=Scan.Type.choices, default=Scan.Type.ENTRY)
        position = IdField(required=False, allow_null=True, default=None)
        raw_item = IdField(required=False, allow_null=True, default=None)
        raw_variation = IdField(required=False, allow_null=True, default=None)
        raw_subevent = IdField(required=False, allow_null=True, default=None)

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["error_reason"].choices = FailedCheckinsView.REASONS

    @extend_schema(request=InputSerializer, responses=dict, summary="pretix: store a refusal made offline")
    def post(self, request, org: str, event: str, list_id: int):
        clist, _ = self.clist(request, org, event, list_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        # Reasons pretix has and Plaudit does not (unpaid, rules, …) are kept as "error": the scan still
        # counts as a refusal in the statistics, and the app's own reason is not lost from the answer.
        reason = data["error_reason"] if data["error_reason"] in Scan.Reason.values else Scan.Reason.ERROR
        req = services.ScanRequest(type=data["type"], at=data["datetime"], **self.scanner(request))
        scan = services.record_failed(clist=clist, raw_code=data["raw_barcode"], reason=reason, req=req,
                                      ticket_id=data["position"])
        return Response(scan_data(scan), status=status.HTTP_201_CREATED)


class CheckinsView(OrganizerView):
    @extend_schema(responses=dict, summary="pretix: the event's check-in history (successful or not)")
    def get(self, request, org: str, event: str):
        found, _ = self.event(request, org, event)
        qs = selectors.scans_for_event(event=found, filters=request.query_params)
        return _paged(self, request, qs, lambda page: [scan_data(s) for s in page])

