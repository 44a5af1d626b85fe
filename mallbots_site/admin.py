"""The admin site as a whole (architecture.md §13): the product's name, and the tables of libraries
(django-q's schedules, tasks and queue; users and groups) for superusers only, like the kernel's."""

from django.contrib import admin

SUPERUSER_APPS = ("django_q", "auth")

admin.site.site_header = "MallBots"
admin.site.site_title = "MallBots admin"
admin.site.index_title = "Stores, depot and operations"
admin.site.site_url = None


class SuperuserOnly:
    def _superuser(self, request) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_add_permission(self, request, *args):
        return self._superuser(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._superuser(request) and super().has_delete_permission(request, obj)


for model, model_admin in list(admin.site._registry.items()):
    if model._meta.app_label in SUPERUSER_APPS:
        admin.site.unregister(model)
        admin.site.register(model, type(type(model_admin).__name__, (SuperuserOnly, type(model_admin)), {}))
