from drf_spectacular.openapi import AutoSchema as BaseAutoSchema


class AutoSchema(BaseAutoSchema):
    """Name serializers nested in a view after that view.

    Our views declare ``InputSerializer``/``QuerySerializer`` inside themselves (one API per operation),
    so dozens of them share a bare name; drf-spectacular would merge them into one wrong component.
    ``checkin.api.CheckoutBulkView.InputSerializer`` becomes ``CheckinCheckoutBulkInput`` instead (the app
    label keeps two apps' ``RedeemView`` apart).
    """

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname:
            app = type(serializer).__module__.split(".")[0].title().replace("_", "")
            name = app + qualname.split(".")[0].removesuffix("View") + name
        return name
