"""One router for the whole API: each app lists its ``routes`` and extra ``urlpatterns``."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from apps.core.api import urls as core_urls

APP_API_MODULES = [core_urls]


class PortalAPIRootView(APIRootView):
    """The list of API resources (signed-in users only, like everything but the token endpoint)."""

    permission_classes = [IsAuthenticated]


class PortalRouter(DefaultRouter):
    APIRootView = PortalAPIRootView


router = PortalRouter()
for module in APP_API_MODULES:
    for prefix, viewset, basename in module.routes:
        router.register(prefix, viewset, basename=basename)

v1_patterns = [pattern for module in APP_API_MODULES for pattern in module.urlpatterns] + router.urls

urlpatterns = [
    path("v1/", include(v1_patterns)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
