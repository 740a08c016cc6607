from django.urls import path

from checkin import api, conf, pretix_api

E = "organizers/<slug:org>/events/<slug:event>/"

urlpatterns = [
    path("organizers/<slug:org>/events/", api.EventsView.as_view(), name="checkin-events"),
    path(f"{E}checkinlists/", api.CheckinListsView.as_view(), name="checkin-lists"),
    path(f"{E}checkinlists/<int:list_id>/status/", api.ListStatusView.as_view(), name="checkin-list-status"),
    path(f"{E}tickets/", api.TicketsView.as_view(), name="checkin-tickets"),
    path(f"{E}tickets/<int:ticket_id>/qr.png", api.TicketQRView.as_view(), {"fmt": "png"}, name="checkin-ticket-png"),
    path(f"{E}tickets/<int:ticket_id>/qr.svg", api.TicketQRView.as_view(), {"fmt": "svg"}, name="checkin-ticket-svg"),
    path(f"{E}scans/", api.ScansView.as_view(), name="checkin-scans"),
    path(f"{E}checkout/single/", api.CheckoutSingleView.as_view(), name="checkin-checkout-single"),
    path(f"{E}checkout/bulk/", api.CheckoutBulkView.as_view(), name="checkin-checkout-bulk"),
    path("organizers/<slug:org>/checkinrpc/redeem/", api.RedeemView.as_view(), name="checkin-redeem"),
    # pretix-family scanner apps (pretixSCAN, eventyay): device auth, offline download, per-list scans.
    path("device/initialize", pretix_api.DeviceInitializeView.as_view(), name="device-initialize"),
    path("device/update", pretix_api.DeviceUpdateView.as_view(), name="device-update"),
    path("device/roll", pretix_api.DeviceRollView.as_view(), name="device-roll"),
    path("device/revoke", pretix_api.DeviceRevokeView.as_view(), name="device-revoke"),
    path("device/info", pretix_api.DeviceInfoView.as_view(), name="device-info"),
    path("version", pretix_api.VersionView.as_view(), name="pretix-version"),
    path(E, pretix_api.EventDetailView.as_view(), name="checkin-event"),
    path(f"{E}items/", pretix_api.ItemsView.as_view(), name="checkin-items"),
    path(f"{E}checkins/", pretix_api.CheckinsView.as_view(), name="checkin-history"),
    path(f"{E}orders/", pretix_api.OrdersView.as_view(), name="checkin-orders"),
    path(f"{E}revokedsecrets/", pretix_api.RevokedSecretsView.as_view(), name="checkin-revoked-secrets"),
    *[path(f"{E}{name}/", pretix_api.EmptyListView.as_view(), name=f"checkin-empty-{name}")
      for name in ("categories", "questions", "subevents", "blockedsecrets", "badgelayouts", "badgeitems")],
    path(f"{E}checkinlists/<int:list_id>/", pretix_api.CheckinListDetailView.as_view(), name="checkin-list"),
    path(f"{E}checkinlists/<int:list_id>/positions/", pretix_api.ListPositionsView.as_view(),
         name="checkin-list-positions"),
    path(f"{E}checkinlists/<int:list_id>/positions/<int:position>/", pretix_api.ListPositionView.as_view(),
         name="checkin-list-position"),
    path(f"{E}checkinlists/<int:list_id>/positions/<str:position>/redeem/", pretix_api.ListRedeemView.as_view(),
         name="checkin-list-redeem"),
    path(f"{E}checkinlists/<int:list_id>/failed_checkins/", pretix_api.FailedCheckinsView.as_view(),
         name="checkin-failed"),
    path("organizers/<slug:org>/checkinrpc/search/", pretix_api.SearchView.as_view(), name="checkin-search"),
    path("organizers/<slug:org>/checkinrpc/annul/", pretix_api.AnnulView.as_view(), name="checkin-annul"),
]

if conf.BENCH_ENDPOINTS:
    urlpatterns.append(path("bench/ping", api.BenchPingView.as_view(), name="checkin-bench-ping"))
