from django.urls import path

from apps.vendors.api import views

routes = [
    ("vendors", views.VendorViewSet, "vendor"),
    ("vendor-contacts", views.VendorContactViewSet, "vendorcontact"),
    ("vendor-contracts", views.VendorContractViewSet, "vendorcontract"),
    ("vendor-reviews", views.PerformanceReviewViewSet, "performancereview"),
]

urlpatterns = [
    path("reports/vendor-scorecards/", views.VendorScorecardReportView.as_view(), name="api-vendor-scorecards"),
]
