"""Base API view shared by every module."""

from rest_framework import exceptions
from rest_framework.views import APIView


class Endpoint(APIView):
    """One endpoint per class; the method is checked before authentication (api.md §1.4: 405 before 401)."""

    def initial(self, request, *args, **kwargs):
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)
