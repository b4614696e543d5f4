from apps.inventory.api import views

routes = [
    ("items", views.ItemViewSet, "item"),
    ("warehouses", views.WarehouseViewSet, "warehouse"),
    ("locations", views.LocationViewSet, "location"),
    ("stock-levels", views.StockLevelViewSet, "stocklevel"),
    ("stock-ledger", views.LedgerViewSet, "ledgerentry"),
    ("cycle-counts", views.CycleCountViewSet, "cyclecount"),
    ("reorder-alerts", views.ReorderAlertViewSet, "reorderalert"),
    ("inventory-reports", views.InventoryReportRunViewSet, "inventoryreportrun"),
]
