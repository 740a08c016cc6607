"""Organizers, events, tickets, check-in lists and the append-only scan log.

A ticket is *inside* a list iff its latest successful scan there, ordered by (datetime, id), is an entry.
The scan log is the fact; ``TicketListState`` is a per-(ticket, list) cache of that fact, written in the
same transaction as every scan and every bulk checkout, so the door status never reads the log.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SECRET_BYTES = 24  # 32 url-safe characters: unguessable, and still a small QR code


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


class Organizer(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class OrganizerMembership(models.Model):
    """Rights of one user for one organizer. ``can_manage`` implies check-in rights."""

    organizer = models.ForeignKey(Organizer, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkin_memberships")
    can_checkin = models.BooleanField(_("can check people in and out"), default=True)
    can_manage = models.BooleanField(_("can manage events and see all attendees"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organizer", "user"], name="checkin_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organizer}"


class Event(models.Model):
    organizer = models.ForeignKey(Organizer, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50)
    date_from = models.DateTimeField(null=True, blank=True)
    date_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organizer", "slug"], name="checkin_event_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class TicketType(models.Model):
    """A ticket type of an event with a stable numeric id: pretix's *item*. Tickets keep their type as a name
    (``Ticket.ticket_type``); rows here are created on first use (``checkin.items``) and never renamed, so an
    id a scanner stored offline keeps meaning the same type."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="ticket_types")
    name = models.CharField(max_length=100)
    # pretix's ``admission``: whether the type lets its holder in (a T-shirt does not).
    admission = models.BooleanField(default=True)
    default_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    # pretix's ``checkin_attention`` / ``checkin_text``: the scanner shows a warning or a text on every scan.
    checkin_attention = models.BooleanField(default=False)
    checkin_text = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "name"], name="checkin_ticket_type_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        # pretix's "canceled" (was "revoked" before the pretix-family scanners came; see migration 0003).
        CANCELED = "canceled", _("Cancelled")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tickets")
    order_code = models.CharField(max_length=32)
    attendee_name = models.CharField(max_length=200, blank=True, default="")
    attendee_email = models.EmailField(blank=True, default="")
    member = models.ForeignKey(
        "engagement.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    ticket_type = models.CharField(max_length=100, default="General admission")
    # The QR payload. Unique across all events, so one lookup finds the ticket whatever list scans it.
    secret = models.CharField(max_length=64, unique=True, default=new_secret)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.VALID)
    created = models.DateTimeField(default=timezone.now, editable=False)
    # Moved by every save (admin, import, cancel). Scans move ``TicketListState.modified`` instead, so the
    # door's hot path writes no ticket row; the offline sync reads both (``selectors.positions_for_list``).
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Ticket search by order code within an event (tickets API, admin).
            models.Index(fields=["event", "order_code"], name="checkin_ticket_order_idx"),
            # The scanners' offline sync: positions changed since their last download.
            models.Index(fields=["event", "modified"], name="checkin_ticket_modified_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_code} {self.attendee_name}".strip()


class RevokedSecret(models.Model):
    """A secret a ticket used to have. Scanning it answers pretix's ``revoked`` (with the ticket), not
    ``invalid``: the holder has an outdated ticket, not a forged one."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="revoked_secrets")
    secret = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"{self.secret[:8]}… of {self.ticket_id}"


class Device(models.Model):
    """A scanner app (pretixSCAN, eventyay) provisioned for one organizer: pretix's device authentication.

    Both tokens are stored as SHA-256 hashes; the raw values are shown once (the initialization token in the
    admin, the API token in the ``device/initialize`` answer)."""

    organizer = models.ForeignKey(Organizer, on_delete=models.CASCADE, related_name="devices")
    # pretix's organizer-internal ``device_id`` (1, 2, … per organizer).
    device_id = models.PositiveIntegerField()
    unique_serial = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=190)
    all_events = models.BooleanField(default=False)
    limit_events = models.ManyToManyField(Event, blank=True, related_name="devices")
    gate = models.CharField(max_length=100, blank=True, default="")
    init_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    init_token_expires = models.DateTimeField(null=True, blank=True, editable=False)
    initialized = models.DateTimeField(null=True, blank=True, editable=False)
    api_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True, editable=False)
    hardware_brand = models.CharField(max_length=190, blank=True, default="", editable=False)
    hardware_model = models.CharField(max_length=190, blank=True, default="", editable=False)
    software_brand = models.CharField(max_length=190, blank=True, default="", editable=False)
    software_version = models.CharField(max_length=190, blank=True, default="", editable=False)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organizer", "device_id"], name="checkin_device_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organizer})"

    def allows(self, event_id: int, event_ids: set[int]) -> bool:
        """``event_ids``: the ids of ``limit_events`` (read by the caller once per request)."""
        return self.all_events or event_id in event_ids


class CheckinList(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="checkin_lists")
    name = models.CharField(max_length=200)
    allow_multiple_entries = models.BooleanField(default=False)
    allow_entry_after_exit = models.BooleanField(default=True)
    require_entry_for_exit = models.BooleanField(default=True)
    # When set, the scheduled task checks everyone out at this time, once; then it moves it to the same
    # local time on the next day while the event lasts (date_to), or clears it.
    exit_all_at = models.DateTimeField(null=True, blank=True)
    # Empty list = every ticket type of the event is valid on this list.
    ticket_types = models.JSONField(default=list, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    attendance_points = models.IntegerField(default=0)

    class Meta:
        indexes = [
            # Polled every minute by the scheduled checkout task.
            models.Index(
                fields=["exit_all_at"], name="checkin_list_exit_all_idx", condition=Q(exit_all_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def covers(self, ticket_type: str) -> bool:
        return not self.ticket_types or ticket_type in self.ticket_types


class CheckoutBatch(models.Model):
    """The one audit record of a bulk checkout (its exit rows point here)."""

    class Trigger(models.TextChoices):
        API = "api", _("API")
        SCHEDULE = "schedule", _("Scheduled")
        COMMAND = "command", _("Command")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="checkout_batches")
    list_ids = models.JSONField(default=list)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.API)
    datetime = models.DateTimeField()
    created = models.DateTimeField(default=timezone.now, editable=False)
    checked_out = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "checkout batches"

    def __str__(self) -> str:
        return f"Bulk checkout #{self.pk} ({self.checked_out})"


class Scan(models.Model):
    """One row per scan, successful or not. Never deleted; never updated except by ``annulment.annul``
    (pretix's annulment: a successful scan becomes ``successful = False``, ``error_reason = "annulled"``)."""

    class Type(models.TextChoices):
        ENTRY = "entry", _("Entry")
        EXIT = "exit", _("Exit")

    class Reason(models.TextChoices):
        INVALID = "invalid", _("Unknown ticket")
        ALREADY_REDEEMED = "already_redeemed", _("Already checked in")
        NOT_CHECKED_IN = "not_checked_in", _("Not checked in")
        CANCELED = "canceled", _("Ticket cancelled")
        REVOKED = "revoked", _("Ticket code revoked")
        PRODUCT = "product", _("Ticket type not valid on this list")
        INVALID_TIME = "invalid_time", _("Outside the list's opening times")
        AMBIGUOUS = "ambiguous", _("Ambiguous: several lists match")
        ERROR = "error", _("Error")
        # A successful scan taken back by its scanner (pretix's annulment); the one update the log allows.
        ANNULLED = "annulled", _("Annulled by the scanner")

    # No single-column FK indexes: the composite indexes below lead with these columns. Every index is a
    # write on the door's hot path.
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="scans",
                               db_index=False)
    checkin_list = models.ForeignKey(CheckinList, on_delete=models.PROTECT, related_name="scans", db_index=False)
    type = models.CharField(max_length=8, choices=Type.choices, default=Type.ENTRY)
    successful = models.BooleanField(default=True)
    error_reason = models.CharField(max_length=32, choices=Reason.choices, blank=True, default="")
    forced = models.BooleanField(default=False)
    nonce = models.CharField(max_length=190, null=True, blank=True)
    # When it happened at the door (may be in the past for offline uploads) vs when we stored it.
    datetime = models.DateTimeField(default=timezone.now)
    server_datetime = models.DateTimeField(default=timezone.now, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    gate = models.CharField(max_length=100, blank=True, default="")
    # The scanner app that made the scan (pretix device auth); staff scans carry ``user`` instead. No index:
    # every index is a write on the hot path, and the history's device filter is rare.
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.PROTECT, related_name="scans",
                               db_index=False)
    # What the scanner read, kept only for unknown codes (ticket is null then).
    raw_code = models.CharField(max_length=190, blank=True, default="")
    batch = models.ForeignKey(CheckoutBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="scans",
                              db_index=False)

    class Meta:
        constraints = [
            # Idempotency of offline uploads and client retries, scoped as pretix scopes it: one successful scan
            # per (list, ticket, nonce). A refusal does not hold the nonce, so the offline queue re-sent with
            # ``force`` is stored; another ticket's scan with the same nonce is its own scan.
            models.UniqueConstraint(
                fields=["checkin_list", "ticket", "nonce"], name="checkin_scan_unique_nonce",
                condition=Q(nonce__isnull=False, successful=True),
            ),
            # Unknown codes have no ticket: their retries are deduplicated by what was read.
            models.UniqueConstraint(
                fields=["checkin_list", "raw_code", "nonce"], name="checkin_scan_unique_unknown_nonce",
                condition=Q(nonce__isnull=False, ticket__isnull=True),
            ),
            models.CheckConstraint(
                condition=Q(successful=True, error_reason="") | Q(successful=False) & ~Q(error_reason=""),
                name="checkin_scan_reason_iff_failed",
            ),
        ]
        indexes = [
            # A ticket's scans on a list in (datetime, id) order: redeem's response, the log selector.
            models.Index(fields=["ticket", "checkin_list", "datetime", "id"], name="checkin_scan_ticket_idx"),
            # The scan log API, newest first per list.
            models.Index(fields=["checkin_list", "-datetime"], name="checkin_scan_list_dt_idx"),
            # A bulk checkout's exit rows (its response, the admin); only bulk rows carry a batch.
            models.Index(fields=["batch"], name="checkin_scan_batch_idx", condition=Q(batch__isnull=False)),
        ]

    def __str__(self) -> str:
        outcome = "ok" if self.successful else self.error_reason
        return f"{self.type} {outcome} #{self.pk}"


class TicketListState(models.Model):
    """Cache of the scan log for one (ticket, list): moved only by ``checkin.services`` in the scan's
    transaction. It makes the door status O(tickets) instead of O(scans) and bulk checkout set-based."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="states")
    # The unique (checkin_list, ticket) index serves lookups by list.
    checkin_list = models.ForeignKey(CheckinList, on_delete=models.CASCADE, related_name="states", db_index=False)
    inside = models.BooleanField(default=False)
    # (datetime) of the latest successful scan; a later-stored scan with an earlier datetime (offline
    # upload) is logged but does not move ``inside``.
    last_datetime = models.DateTimeField()
    entry_count = models.PositiveIntegerField(default=0)
    exit_count = models.PositiveIntegerField(default=0)
    # Server time of the last change, for the scanners' offline sync (``modified_since``). Not indexed: the
    # sync reads a list's rows by the unique (list, ticket) index, and an index here would make every
    # state update on the hot path a non-HOT update.
    modified = models.DateTimeField(default=timezone.now)
    # The bulk checkout that last flipped this row; its INSERT ... SELECT of exit rows reads it.
    last_batch = models.ForeignKey(CheckoutBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            # List first: its index also serves the status endpoint's per-list aggregates.
            models.UniqueConstraint(fields=["checkin_list", "ticket"], name="checkin_state_unique"),
        ]
        indexes = [
            # Bulk checkout's UPDATE and the status endpoint's inside count.
            models.Index(fields=["checkin_list"], name="checkin_state_inside_idx", condition=Q(inside=True)),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}@{self.checkin_list_id} {'inside' if self.inside else 'outside'}"
