from apps.sops.api import views

routes = [
    ("sops", views.SOPDocumentViewSet, "sop"),
    ("sop-versions", views.SOPVersionViewSet, "sopversion"),
    ("sop-acknowledgements", views.AcknowledgementViewSet, "sopacknowledgement"),
]
