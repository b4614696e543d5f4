"""One router for the whole API: each app lists its ``routes`` and extra ``urlpatterns``."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from apps.core.api import urls as core_urls
from apps.core.plugins import app_modules


class PortalAPIRootView(APIRootView):
    """The list of API resources (signed-in users only, like everything but the token endpoint)."""

    permission_classes = [IsAuthenticated]


class PortalRouter(DefaultRouter):
    APIRootView = PortalAPIRootView


api_modules = [core_urls, *app_modules("api.urls")]

router = PortalRouter()
for module in api_modules:
    for prefix, viewset, basename in module.routes:
        router.register(prefix, viewset, basename=basename)

v1_patterns = [pattern for module in api_modules for pattern in getattr(module, "urlpatterns", [])] + router.urls

urlpatterns = [
    path("v1/", include(v1_patterns)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
