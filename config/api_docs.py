"""The OpenAPI schema and Swagger UI views, with errors in JSON like everything else under /api/.

The docs page renders HTML and the schema YAML, so DRF rendered their errors in those formats too, and
``OPTIONS /api/docs/`` crashed: DRF answers OPTIONS with a metadata dict, which the HTML renderer has
no template for (a 500). Errors and OPTIONS answer JSON here. (Not in config/schema.py: these views
import DRF's settings, which import that module's AutoSchema.)
"""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response


class _JsonErrors:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and (response.exception or request.method == "OPTIONS"):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaView(_JsonErrors, SpectacularAPIView):
    pass


class DocsView(_JsonErrors, SpectacularSwaggerSplitView):
    pass
