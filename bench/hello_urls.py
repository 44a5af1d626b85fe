"""The project's URLs plus ``GET /bench/hello`` (a DRF view returning {"ok": true}) for `drf_hello`."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from access import levels


class HelloView(APIView):
    permission_classes = [levels.Public]

    def get(self, request):
        return Response({"ok": True})


handler404 = "web.errors.not_found_view"
handler500 = "web.errors.server_error_view"
urlpatterns = [path("bench/hello", HelloView.as_view()), path("", include("mallbots_site.urls"))]
