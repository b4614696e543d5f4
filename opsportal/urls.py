from django.contrib import admin
from django.urls import include, path

from apps.core.views import healthz

admin.site.site_header = "Ops Portal"
admin.site.site_title = "Ops Portal"
admin.site.index_title = "Operations"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("opsportal.api_urls")),
]
