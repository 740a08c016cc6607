"""How the OpenAPI schema names the pretix device authentication (imported in CheckinConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "checkin.auth.DeviceAuthentication"
    name = "deviceAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Device <API token>`: a scanner device provisioned in the admin (pretix device auth)."}
