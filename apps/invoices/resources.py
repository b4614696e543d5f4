"""
Import and export columns of accounts payable: invoices with lines, purchase orders with lines, goods
receipts and payments.

Each resource declares the columns (for exports, the column list of the import page and header aliases).
The rows of an import are validated and written by the bulk importers in ``apps.invoices.imports``, which
group the lines of one invoice or order and go through the rules of ``apps.invoices.services``.

``header_aliases`` name the headers of the bill exports of common accounting packages: Xero
("*ContactName", "InvoiceNumber", "UnitAmount", "TaxAmount", ...) and QuickBooks ("Vendor", "Bill No.",
"Bill Date", "Line Description", "Line Amount", ...). Headers those exports carry that the portal does not
keep (addresses, account codes, tax types, tracking categories) are listed in ``ignored_headers``.
"""

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from apps.invoices.models import GoodsReceipt, InvoiceLine, Payment, PurchaseOrder, PurchaseOrderLine
from apps.vendors.models import Vendor

XERO_IGNORED = (
    "EmailAddress",
    "POAttentionTo",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "SAAddressLine1",
    "SAAddressLine2",
    "SAAddressLine3",
    "SAAddressLine4",
    "SACity",
    "SARegion",
    "SAPostalCode",
    "SACountry",
    "PlannedDate",
    "Total",
    "TaxTotal",
    "InvoiceAmountPaid",
    "InvoiceAmountDue",
    "InventoryItemCode",
    "Discount",
    "AccountCode",
    "TaxType",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "LineAmountTypes",
    "BrandingTheme",
    "Type",
    "Sent",
    "Status",
)
QUICKBOOKS_IGNORED = (
    "Mailing Address",
    "Terms",
    "Location",
    "Account",
    "Line Item",
    "Line Class",
    "Line Customer",
    "Line Billable",
    "Exchange Rate",
)


class InvoiceLineResource(resources.ModelResource):
    """One row per invoice line, the invoice's header repeated on each: how accounting packages export bills."""

    vendor = fields.Field(
        attribute="invoice__vendor", column_name="vendor", widget=ForeignKeyWidget(Vendor, field="code")
    )
    invoice_number = fields.Field(attribute="invoice__number", column_name="invoice_number")
    invoice_date = fields.Field(attribute="invoice__invoice_date", column_name="invoice_date")
    due_date = fields.Field(attribute="invoice__due_date", column_name="due_date")
    currency = fields.Field(attribute="invoice__currency", column_name="currency")
    purchase_order = fields.Field(
        attribute="invoice__purchase_order",
        column_name="purchase_order",
        widget=ForeignKeyWidget(PurchaseOrder, field="number"),
    )
    notes = fields.Field(attribute="invoice__notes", column_name="notes")
    description = fields.Field(attribute="description", column_name="description")
    quantity = fields.Field(attribute="quantity", column_name="quantity")
    unit_price = fields.Field(attribute="unit_price", column_name="unit_price")
    line_amount = fields.Field(attribute="amount", column_name="line_amount")
    tax = fields.Field(column_name="tax")

    required_headers = ("vendor", "invoice_number", "invoice_date", "description")
    header_aliases = {
        "vendor": ("ContactName", "Contact", "Vendor Name", "Supplier", "Supplier Name", "Vendor Code", "Payee"),
        "invoice_number": ("InvoiceNumber", "Invoice No", "Invoice #", "Bill No", "Bill No.", "Bill Number", "Ref No"),
        "invoice_date": ("InvoiceDate", "Bill Date", "Date", "Txn Date"),
        "due_date": ("DueDate", "Due"),
        "currency": ("CurrencyCode", "Currency Code"),
        "purchase_order": ("PO Number", "PO No", "PO", "Purchase Order Number"),
        "notes": ("Memo", "Reference", "Note"),
        "description": ("Line Description", "Item Description", "Details"),
        "quantity": ("Qty", "Line Qty"),
        "unit_price": ("UnitAmount", "Unit Amount", "Unit Price", "Rate", "Line Rate", "Price"),
        "line_amount": ("LineAmount", "Amount"),
        "tax": ("TaxAmount", "Tax Amount", "Line Tax Amount", "VAT", "VAT Amount"),
    }
    ignored_headers = XERO_IGNORED + QUICKBOOKS_IGNORED

    class Meta:
        model = InvoiceLine
        fields = [
            "vendor",
            "invoice_number",
            "invoice_date",
            "due_date",
            "currency",
            "purchase_order",
            "notes",
            "description",
            "quantity",
            "unit_price",
            "line_amount",
            "tax",
        ]
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("invoice__vendor", "invoice__purchase_order")

    def dehydrate_tax(self, line):
        # The invoice's tax on its first line, so that importing an export gives the same invoice back.
        return line.invoice.tax if line.line_number == 1 else 0


class PurchaseOrderLineResource(resources.ModelResource):
    """One row per purchase order line, the order's header repeated on each."""

    vendor = fields.Field(
        attribute="purchase_order__vendor",
        column_name="vendor",
        widget=ForeignKeyWidget(Vendor, field="code"),
    )
    po_number = fields.Field(attribute="purchase_order__number", column_name="po_number")
    order_date = fields.Field(attribute="purchase_order__order_date", column_name="order_date")
    currency = fields.Field(attribute="purchase_order__currency", column_name="currency")
    notes = fields.Field(attribute="purchase_order__notes", column_name="notes")
    item_code = fields.Field(attribute="item_code", column_name="item_code")
    description = fields.Field(attribute="description", column_name="description")
    quantity = fields.Field(attribute="quantity", column_name="quantity")
    unit_price = fields.Field(attribute="unit_price", column_name="unit_price")
    promised_date = fields.Field(attribute="promised_date", column_name="promised_date")

    required_headers = ("vendor", "po_number", "order_date", "quantity", "unit_price", "promised_date")
    header_aliases = {
        "vendor": ("Supplier", "Vendor Name", "Supplier Name", "ContactName", "Vendor Code"),
        "po_number": ("PurchaseOrderNumber", "PO", "PO No", "PO #", "Purchase Order", "Purchase Order Number"),
        "order_date": ("Date", "PO Date", "Order Date"),
        "currency": ("CurrencyCode", "Currency Code"),
        "notes": ("Memo", "Reference"),
        "item_code": ("ItemCode", "InventoryItemCode", "Item", "SKU", "Product/Service"),
        "description": ("Line Description", "Item Description"),
        "quantity": ("Qty", "Line Qty"),
        "unit_price": ("UnitAmount", "Unit Price", "Rate", "Line Rate", "Price"),
        "promised_date": ("DeliveryDate", "Delivery Date", "Expected Date", "Due Date"),
    }
    ignored_headers = XERO_IGNORED + QUICKBOOKS_IGNORED + ("Line Amount", "LineAmount", "Amount")

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "vendor",
            "po_number",
            "order_date",
            "currency",
            "notes",
            "item_code",
            "description",
            "quantity",
            "unit_price",
            "promised_date",
        ]
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("purchase_order__vendor")


class GoodsReceiptResource(resources.ModelResource):
    """One goods receipt per row: purchase order number, line number and the quantities received."""

    po_number = fields.Field(attribute="po_line__purchase_order__number", column_name="po_number")
    line_number = fields.Field(attribute="po_line__line_number", column_name="line_number")

    required_headers = ("po_number", "line_number", "received_date", "quantity_received")
    header_aliases = {
        "po_number": ("PurchaseOrderNumber", "PO", "PO No", "PO #", "Purchase Order", "Purchase Order Number"),
        "line_number": ("Line", "Line No", "PO Line", "Line #"),
        "received_date": ("Date", "Receipt Date", "Date Received", "Delivery Date"),
        "quantity_received": ("Quantity", "Qty", "Qty Received", "Received"),
        "quantity_damaged": ("Damaged", "Qty Damaged", "Rejected"),
        "reference": ("Delivery Note", "Delivery Note Number", "Packing Slip", "GRN"),
    }
    ignored_headers = ()

    class Meta:
        model = GoodsReceipt
        fields = ["po_number", "line_number", "received_date", "quantity_received", "quantity_damaged", "reference"]
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("po_line__purchase_order")


class PaymentResource(resources.ModelResource):
    """One payment per row: which invoice (vendor and invoice number), how much, when, and its reference."""

    vendor = fields.Field(
        attribute="invoice__vendor", column_name="vendor", widget=ForeignKeyWidget(Vendor, field="code")
    )
    invoice_number = fields.Field(attribute="invoice__number", column_name="invoice_number")

    required_headers = ("vendor", "invoice_number", "amount", "payment_date", "reference")
    header_aliases = {
        "vendor": ("ContactName", "Contact", "Supplier", "Payee", "Vendor Name", "Vendor Code"),
        "invoice_number": ("InvoiceNumber", "Invoice No", "Invoice #", "Bill No", "Bill No.", "Bill Number"),
        "amount": ("Amount Paid", "Payment Amount", "Paid"),
        "payment_date": ("Date", "Payment Date", "Paid Date", "Date Paid"),
        "reference": ("Payment Reference", "Ref No", "Check No", "Cheque No", "Transaction ID"),
        "method": ("Payment Method", "Method", "Type"),
    }
    ignored_headers = ("Account", "Bank Account", "Currency", "CurrencyCode", "Memo")

    class Meta:
        model = Payment
        fields = ["vendor", "invoice_number", "amount", "payment_date", "reference", "method"]
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("invoice__vendor")
