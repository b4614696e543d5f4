from django.urls import path

from apps.refunds.api import views

routes = [
    ("orders", views.OrderViewSet, "order"),
    ("refunds", views.RefundCaseViewSet, "refundcase"),
    ("refund-channels", views.ChannelViewSet, "refund-channel"),
    ("refund-reasons", views.ReasonCodeViewSet, "refund-reason"),
    ("refund-report-runs", views.ReportRunViewSet, "refund-report-run"),
]

urlpatterns = [
    path("reports/refund-aging/", views.RefundAgingView.as_view(), name="refund-aging"),
]
