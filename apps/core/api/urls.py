from django.urls import path

from apps.core.api import views

routes = [
    ("users", views.UserViewSet, "user"),
    ("groups", views.GroupViewSet, "group"),
    ("audit-events", views.AuditEventViewSet, "auditevent"),
    ("audit-changes", views.ChangeViewSet, "change"),
    ("notifications", views.NotificationViewSet, "notification"),
    ("import-jobs", views.ImportJobViewSet, "importjob"),
    ("export-jobs", views.ExportJobViewSet, "exportjob"),
    ("evidence-packs", views.EvidencePackViewSet, "evidencepack"),
]

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("system/ping/", views.PingView.as_view(), name="api-system-ping"),
    path("system/tasks/<uuid:task_id>/", views.TaskStatusView.as_view(), name="api-system-task"),
]
