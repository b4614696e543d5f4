from django.urls import path

from apps.invoices.api import views

routes = [
    ("purchase-orders", views.PurchaseOrderViewSet, "purchaseorder"),
    ("receipts", views.GoodsReceiptViewSet, "goodsreceipt"),
    ("invoices", views.InvoiceViewSet, "invoice"),
    ("credit-memos", views.CreditMemoViewSet, "creditmemo"),
    ("payments", views.PaymentViewSet, "payment"),
    ("ap-aging-runs", views.AgingReportRunViewSet, "agingreportrun"),
]

urlpatterns = [
    path("reports/ap-aging/", views.APAgingView.as_view(), name="api-ap-aging"),
]
