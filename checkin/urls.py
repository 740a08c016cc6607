from django.urls import path

from checkin import api, conf

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
]

if conf.BENCH_ENDPOINTS:
    urlpatterns.append(path("bench/ping", api.BenchPingView.as_view(), name="checkin-bench-ping"))
