"""The order board page ``/board/`` (api.md §5, architecture.md §10): for a staff session with a depot role.

Anonymous (or inactive) users are sent to the admin's login, which returns them here; a signed-in user
without a depot role gets 403. The page is static apart from ``BOARD_RECENT_MINUTES``: ``static/board.js``
fills it from ``/ws/board/``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from access.principals import DEPOT_ADMIN, DEPOT_STAFF, has_role


@require_GET
@never_cache
def board_page(request):
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not has_role(user, DEPOT_STAFF, DEPOT_ADMIN):
        return render(request, "board_forbidden.html", status=403)
    return render(request, "board.html", {"recent_minutes": settings.BOARD_RECENT_MINUTES})


urlpatterns = [path("board/", board_page, name="board")]
