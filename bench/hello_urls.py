"""The project's URLs plus ``GET /bench/hello`` (a DRF view returning {"ok": true}) for `drf_hello`."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from mallbots_site import auth


class HelloView(APIView):
    permission_classes = [auth.Public]

    def get(self, request):
        return Response({"ok": True})


handler404 = "mallbots_site.errors.not_found_view"
handler500 = "mallbots_site.errors.server_error_view"
urlpatterns = [path("bench/hello", HelloView.as_view()), path("", include("mallbots_site.urls"))]
