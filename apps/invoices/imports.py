"""
Bulk importers of accounts payable files: invoices with lines, purchase orders with lines, goods receipts
and payments.

The file is read as a stream (``imports.stream_table``) and validated in batches of ``BATCH_ROWS`` rows:
types and required values per row, the lines of one invoice kept together and never repeated, vendors,
orders and the invoices already entered looked up with one query each per batch. Every invalid row is
reported (row, column, value, message); the rows are written all or nothing in one transaction, and not
at all in a dry run.

Invoices take the fast path: the rules of ``apps.invoices.services`` are applied as validation functions
(header, lines, totals, defaults, what an import may change) and the rows are written in bulk
(``apps.core.bulk``: COPY, their change log entries with the importing user and the job). A batch is made
complete first (ids drawn ahead, times, its change log entries), then written by a background writer on the
same connection while the next one is read and built, its foreign keys checked as it is written. The
invoices already entered are looked up key by key, so each batch's look-up costs the same however full the
table is.
Purchase orders, receipts and payments are fewer and go through their service functions one record at a
time (locks, balances and rules as in the admin), inside the same all-or-nothing transaction.
"""

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.core import bulk, imports
from apps.core.exceptions import TransitionNotAllowed
from apps.invoices import services
from apps.invoices.models import GoodsReceipt, Invoice, InvoiceLine, Payment, PurchaseOrder, PurchaseOrderLine
from apps.invoices.resources import (
    GoodsReceiptResource,
    InvoiceLineResource,
    PaymentResource,
    PurchaseOrderLineResource,
)
from apps.vendors.models import Vendor

BATCH_ROWS = 1000
ZERO = Decimal("0")
CENT = Decimal("0.01")
DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%Y/%m/%d")


class RowProblem(Exception):
    """A value of one row that cannot be used: the column and a message for the person who uploaded it."""

    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


# --- Columns and values -------------------------------------------------------------------------


def column_positions(headers: list[str], resource_class) -> dict[str, int]:
    """Where each column the resource reads is; unknown or missing columns are an ``ImportFileError``."""
    known = imports.resource_columns(resource_class)
    ignored = {imports.header_key(name) for name in resource_class.ignored_headers}
    unknown = [h for h in headers if h not in known and imports.header_key(h) not in ignored]
    if unknown:
        raise imports.ImportFileError(
            f"Unknown column(s): {', '.join(unknown)}. The columns read are: {', '.join(known)}."
        )
    missing = [name for name in resource_class.required_headers if name not in headers]
    if missing:
        raise imports.ImportFileError(f"Missing column(s): {', '.join(missing)}.")
    return {header: index for index, header in enumerate(headers) if header in known}


class Row:
    """One row's values by column name, parsed on demand; a bad value raises ``RowProblem``."""

    __slots__ = ("columns", "number", "values")

    def __init__(self, number: int, values: list, columns: dict[str, int]):
        self.number = number
        self.values = values
        self.columns = columns

    def raw(self, column: str):
        index = self.columns.get(column)
        return "" if index is None else self.values[index]

    def text(self, column: str, *, required: str = "") -> str:
        value = self.raw(column)
        text = "" if value is None else str(value).strip()
        if not text and required:
            raise RowProblem(column, required)
        return text

    def date(self, column: str, *, required: str = "") -> date | None:
        value = self.raw(column)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = self.text(column, required=required)
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            pass
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        raise RowProblem(column, f"{text!r} is not a date: write it as YYYY-MM-DD.")

    def _number(self, column: str):
        value = self.raw(column)
        if isinstance(value, float):
            return repr(value)  # a spreadsheet's number, as it is shown
        return value.strip() if isinstance(value, str) else value

    def money(self, column: str, *, default=None, positive: bool = False) -> Decimal | None:
        value = self._number(column)
        if value in (None, ""):
            return default
        try:
            return services.money_value(value, column, positive=positive)
        except ValidationError as exc:
            raise RowProblem(column, exc.messages[0]) from exc

    def quantity(self, column: str, *, default=None) -> Decimal | None:
        value = self._number(column)
        if value in (None, ""):
            return default
        try:
            return services.quantity_value(value, column)
        except ValidationError as exc:
            raise RowProblem(column, exc.messages[0]) from exc


def _messages(exc: Exception) -> list[tuple[str, str]]:
    """(field, message) pairs of a service's ValidationError, TransitionNotAllowed or PermissionDenied."""
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return [("" if name == "__all__" else name, m) for name, msgs in exc.message_dict.items() for m in msgs]
    if isinstance(exc, ValidationError):
        return [("", m) for m in exc.messages]
    return [("", str(exc))]


# --- Invoices: the fast path --------------------------------------------------------------------

INVOICE_HEADER_COLUMNS = ("invoice_date", "due_date", "currency", "purchase_order", "notes")
INVOICE_FIELD_COLUMNS = {"number": "invoice_number", "lines": "description"}
INVOICE_UPDATE_FIELDS = [
    "invoice_date",
    "due_date",
    "currency",
    "purchase_order",
    "tax",
    "subtotal",
    "total",
    "notes",
    "updated_at",
    "updated_by",
]
LINE_NUMBER = re.compile(r"^Line (\d+): ")


@dataclass
class InvoiceRows:
    """The rows of one invoice in the file: its header from the first row, one line per row."""

    vendor_text: str
    number: str
    first_row: int
    header: dict
    header_raw: dict
    lines: list = dataclass_field(default_factory=list)
    broken: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.vendor_text, self.number)


class InvoiceBatch:
    """Validates and writes batches of invoices; remembers vendors and orders already looked up."""

    def __init__(self, job, result: imports.BulkImportResult, columns: dict[str, int], writer: bulk.BackgroundWriter):
        self.job = job
        self.writer = writer
        self.invoice_ids = bulk.IdPool(Invoice)
        self.line_ids = bulk.IdPool(InvoiceLine)
        self.pending: tuple | None = None  # a batch built and made ready, written after the next one's look-ups
        self.actor = job.created_by
        self.result = result
        self.columns = columns
        self.vendors: dict[str, Vendor | str | None] = {}
        self.orders: dict[str, PurchaseOrder | None] = {}
        self.resolved: dict[tuple[int, str], int] = {}

    # Look-ups: one query each per batch, for what earlier batches did not already find.

    def _load_vendors(self, texts: set[str]) -> None:
        wanted = texts - self.vendors.keys()
        if not wanted:
            return
        by_code, by_name = {}, {}
        found = Vendor.objects.filter(Q(code__in=wanted) | Q(legal_name__in=wanted)).only(
            "id", "code", "legal_name", "default_currency", "payment_terms_days"
        )
        for vendor in found:
            by_code[vendor.code] = vendor
            by_name.setdefault(vendor.legal_name, []).append(vendor)
        for text in wanted:
            named = by_name.get(text, [])
            if text in by_code:
                self.vendors[text] = by_code[text]
            elif len(named) == 1:
                self.vendors[text] = named[0]
            elif named:
                self.vendors[text] = f"{len(named)} vendors are named {text!r}: give the vendor's code."
            else:
                self.vendors[text] = None

    def _load_orders(self, numbers: set[str]) -> None:
        wanted = numbers - self.orders.keys()
        if wanted:
            found = {o.number: o for o in PurchaseOrder.objects.filter(number__in=wanted)}
            self.orders.update({number: found.get(number) for number in wanted})

    def process(self, groups: list[InvoiceRows]) -> None:
        self._load_vendors({g.vendor_text for g in groups if not g.broken})
        self._load_orders({g.header["purchase_order"] for g in groups if not g.broken and g.header["purchase_order"]})
        ready = []
        for group in groups:
            if group.broken:
                continue
            vendor = self.vendors[group.vendor_text]
            if not isinstance(vendor, Vendor):
                message = vendor or f"Unknown vendor {group.vendor_text!r}: give its code or exact legal name."
                self._problem(group, "vendor", group.vendor_text, message)
                continue
            order = None
            if group.header["purchase_order"]:
                order = self.orders[group.header["purchase_order"]]
                if order is None:
                    number = group.header["purchase_order"]
                    self._problem(group, "purchase_order", number, f"Unknown purchase order {number}.")
                    continue
            first = self.resolved.setdefault((vendor.pk, group.number), group.first_row)
            if first != group.first_row:
                message = f"Invoice {group.number} of {vendor.code} is also in row {first}: give each invoice once."
                self._problem(group, "invoice_number", group.number, message)
                continue
            ready.append((group, vendor, order))
        existing = self._existing(ready)
        writing = not self.job.dry_run and not self.result.problems
        if writing:  # ids for what this batch may add, drawn while the connection is ours
            self.invoice_ids.reserve(len(ready))
            self.line_ids.reserve(sum(len(group.lines) for group, _, _ in ready))
        # The looking up is done: the previous batch may be written now, beside the building of this one.
        self._write_pending()
        new, changed = [], []
        for group, vendor, order in ready:
            before = existing.get((vendor.pk, group.number))
            built = self._build(group, vendor, order, before)
            if built is None:
                continue
            invoice, lines = built
            if before is None:
                new.append((invoice, lines))
                self.result.count("new", invoice)
            elif self._same(before, invoice, lines):
                self.result.count("unchanged", before)
            elif self._importable(group, before):
                changed.append((before, invoice, lines))
                self.result.count("updated", invoice)
        if writing and not self.result.problems:
            self.pending = self._ready(new, changed)

    def finish(self) -> None:
        """Write the last batch and wait until everything is written."""
        self._write_pending()
        self.writer.wait()

    def _write_pending(self) -> None:
        if self.pending is not None and not self.result.problems:
            self._write(*self.pending)
        self.pending = None

    def _existing(self, ready) -> dict:
        if not ready:
            return {}
        found = {
            (invoice.vendor_id, invoice.number): invoice
            for invoice in entered_invoices([(vendor.pk, group.number) for group, vendor, _ in ready])
        }
        lines: dict[int, list] = {invoice.pk: [] for invoice in found.values()}
        if lines:
            for line in InvoiceLine.objects.filter(invoice_id__in=lines.keys()).order_by("invoice_id", "line_number"):
                lines[line.invoice_id].append(line)
        for invoice in found.values():
            invoice.imported_lines = lines[invoice.pk]
        return found

    def _build(self, group: InvoiceRows, vendor: Vendor, order, before: Invoice | None):
        header = group.header
        if before is not None:
            invoice = Invoice(**{f.attname: getattr(before, f.attname) for f in Invoice._meta.concrete_fields})
            invoice._state.adding = False
            invoice.purchase_order = before.purchase_order  # loaded with it: no query per invoice
            invoice.vendor = vendor
            invoice.updated_by = self.actor
            if "purchase_order" in self.columns:
                invoice.purchase_order = order
            date_changed = header["invoice_date"] != before.invoice_date
        else:
            invoice = bulk.new_instance(
                Invoice,
                number=group.number,
                status=Invoice.Status.DRAFT,
                vendor=vendor,
                purchase_order=order,
                created_by=self.actor,
                updated_by=self.actor,
            )
            date_changed = True
        invoice.invoice_date = header["invoice_date"]
        if header["due_date"]:
            invoice.due_date = header["due_date"]
        elif date_changed:
            invoice.due_date = services.invoice_default_due_date(vendor, header["invoice_date"])
        if header["currency"]:
            invoice.currency = header["currency"].upper()
        elif before is None or "currency" in self.columns:
            invoice.currency = services.invoice_default_currency(vendor, invoice.purchase_order)
        if "notes" in self.columns or before is None:
            invoice.notes = header["notes"]
        invoice.tax = sum((line["tax"] for line in group.lines), ZERO)
        errors = services.invoice_header_errors(invoice)
        for name, message in errors.items():
            column = INVOICE_FIELD_COLUMNS.get(name, name)
            self._problem(group, column, group.header_raw.get(column, ""), message)
        if errors:
            return None
        try:
            lines = services.invoice_lines_build(invoice, [{k: line[k] for k in LINE_KEYS} for line in group.lines])
        except ValidationError as exc:
            for _name, message in _messages(exc):
                match = LINE_NUMBER.match(message)
                row = group.lines[int(match.group(1)) - 1]["row"] if match else group.first_row
                self.result.problem(row, "description", "", message)
            return None
        return invoice, lines

    def _importable(self, group: InvoiceRows, before: Invoice) -> bool:
        try:
            services.invoice_ensure_importable(before)
        except TransitionNotAllowed as exc:
            self._problem(group, "invoice_number", group.number, str(exc))
            return False
        return True

    @staticmethod
    def _same(before: Invoice, after: Invoice, lines: list[InvoiceLine]) -> bool:
        fields = ("invoice_date", "due_date", "currency", "purchase_order_id", "tax", "notes")
        if any(getattr(before, name) != getattr(after, name) for name in fields):
            return False
        old = [(line.description, line.quantity, line.unit_price, line.po_line_id) for line in before.imported_lines]
        return old == [(line.description, line.quantity, line.unit_price, None) for line in lines]

    def _ready(self, new, changed) -> tuple:
        """The batch's new rows with their ids and times, and their creation entries: all but the writing."""
        log = bulk.ChangeLog(actor=self.actor, additional_data={"path": "import", "import_job": self.job.pk})
        log.prepare(Invoice, InvoiceLine)
        invoices = [invoice for invoice, _ in new]
        bulk.make_ready(Invoice, invoices, self.invoice_ids.take(len(invoices)))
        lines = []
        for invoice, invoice_lines in [*new, *((invoice, lines) for _, invoice, lines in changed)]:
            for line in invoice_lines:
                line.invoice_id = invoice.pk
                line._state.fields_cache["invoice"] = invoice
                lines.append(line)
        bulk.make_ready(InvoiceLine, lines, self.line_ids.take(len(lines)))
        for instance in (*invoices, *lines):
            log.created(instance)
        log.seal()
        return bulk.Insert(Invoice, invoices), bulk.Insert(InvoiceLine, lines), changed, log

    def _write(self, invoices: bulk.Insert, lines: bulk.Insert, changed, log: bulk.ChangeLog) -> None:
        """Changed invoices are written here (the ORM); new ones, all the lines and the log by the background writer."""
        if changed:
            now = timezone.now()
            for before, invoice, _ in changed:
                invoice.updated_at = now
                log.updated(before, invoice)
            Invoice.objects.bulk_update([invoice for _, invoice, _ in changed], INVOICE_UPDATE_FIELDS)
            gone = [line for before, _, _ in changed for line in before.imported_lines]
            for line in gone:
                log.deleted(line)
            InvoiceLine.objects.filter(pk__in=[line.pk for line in gone])._raw_delete(InvoiceLine.objects.db)
            log.seal()
        self.writer.submit(_write_new_rows, invoices, lines, log)

    def _problem(self, group: InvoiceRows, column: str, value, message: str) -> None:
        self.result.problem(group.first_row, column, value, message)


def entered_invoices(keys: list[tuple[int, str]]):
    """The invoices already entered (not cancelled) with these (vendor id, number) keys, their orders joined."""
    return (
        Invoice.objects.filter(_with_keys(keys))
        .exclude(status=Invoice.Status.CANCELLED)
        .select_related("purchase_order")
        .order_by()
    )


def _with_keys(keys: list[tuple[int, str]]) -> Q:
    """Invoices with these (vendor id, number) keys: on PostgreSQL those not cancelled, one index look-up per key.

    A batch's thousand keys go as two array parameters, and each key is looked up on its own in the index of
    the rule "one number per vendor" (``invoice_number_unique_per_vendor``, which leaves cancelled invoices
    out): a statement of the same short text for every batch, whose cost does not grow with the table. Joined
    to the table as a whole, the keys were matched by hashing every invoice in it, for every batch: the
    planner prices an index look-up as a read from disk, and prefers a full scan until the table holds
    hundreds of thousands of rows, so each batch of an import took longer than the last (18 ms at 50,000
    invoices, against 2 ms key by key). ``OFFSET 0`` keeps the per-key subquery from being turned back into
    such a join. Two ``IN`` lists would be built, sent and parsed again for every batch, and match any
    vendor's number to any other's.
    """
    if connection.vendor != "postgresql":
        return Q(vendor_id__in={vendor for vendor, _ in keys}, number__in={number for _, number in keys})
    quote = connection.ops.quote_name
    pk, vendor, number, status = (
        quote(Invoice._meta.get_field(name).column) for name in ("id", "vendor", "number", "status")
    )
    matching = RawSQL(  # noqa: S611 (only the model's own table and column names are put in the statement)
        f"SELECT f.{pk} FROM unnest(%s::bigint[], %s::text[]) AS k(vendor, number) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT i.{pk} FROM {quote(Invoice._meta.db_table)} i "
        f"WHERE i.{vendor} = k.vendor AND i.{number} = k.number AND NOT (i.{status} = %s) OFFSET 0) f",
        [[vendor for vendor, _ in keys], [number for _, number in keys], Invoice.Status.CANCELLED.value],
    )
    return Q(pk__in=matching)


def _write_new_rows(raw, invoices: bulk.Insert, lines: bulk.Insert, log: bulk.ChangeLog) -> None:
    """The new invoices, the lines of new and changed ones, and the change log, on the connection ``raw``."""
    invoices.write(raw)
    for line in lines.objects:
        if line.invoice_id is None:  # where the database gives the ids as the rows are written
            line.invoice_id = line._state.fields_cache["invoice"].pk
    lines.write(raw)
    log.write(raw)


LINE_KEYS = ("description", "quantity", "unit_price")


INVOICE_ROW_READERS = (
    ("vendor", Row.text, {"required": "Give the vendor's code or legal name."}),
    ("invoice_number", Row.text, {"required": "Give the vendor's invoice number."}),
    ("invoice_date", Row.date, {"required": "Give the invoice date."}),
    ("due_date", Row.date, {}),
    ("currency", Row.text, {}),
    ("purchase_order", Row.text, {}),
    ("notes", Row.text, {}),
    ("description", Row.text, {}),
    ("quantity", Row.quantity, {"default": Decimal("1.000")}),
    ("unit_price", Row.money, {}),
    ("line_amount", Row.money, {}),
    ("tax", Row.money, {"default": ZERO}),
)


def _invoice_row(row: Row, result: imports.BulkImportResult):
    """The invoice key, header and line of one row; every bad value is a problem and the row is left out."""
    values, problems = {}, []
    for column, read, options in INVOICE_ROW_READERS:
        try:
            values[column] = read(row, column, **options)
        except RowProblem as problem:
            problems.append(problem)
    if values.get("unit_price") is None and "unit_price" in values and "line_amount" in values:
        amount, quantity = values["line_amount"], values.get("quantity")
        if amount is None:
            problems.append(RowProblem("unit_price", "Give the unit price or the line amount."))
        elif quantity:
            unit_price = (amount / quantity).quantize(CENT)
            if (unit_price * quantity).quantize(CENT) != amount:
                message = f"{amount} for {quantity} units is no price in cents: give the unit price."
                problems.append(RowProblem("line_amount", message))
            values["unit_price"] = unit_price
    for problem in problems:
        result.problem(row.number, problem.column, row.raw(problem.column), problem.message)
    return None if problems else values


def import_invoices(*, job, table: imports.TableStream, progress) -> imports.BulkImportResult:
    """Invoices with lines, one row per line (the header repeated): validated in batches, written all or nothing."""
    columns = column_positions(table.headers, InvoiceLineResource)
    if "unit_price" not in columns and "line_amount" not in columns:
        raise imports.ImportFileError("Missing column: unit_price (or line_amount).")
    result = imports.BulkImportResult(unit="invoices")
    seen: dict[tuple[str, str], int] = {}
    groups: list[InvoiceRows] = []
    rows_in_batch = 0
    current: InvoiceRows | None = None
    with transaction.atomic(), bulk.constraints_checked_at_once(), bulk.BackgroundWriter() as writer:
        batch = InvoiceBatch(job, result, columns, writer)
        for number, values in table.rows:
            result.rows += 1
            row = Row(number, values, columns)
            parsed = _invoice_row(row, result)
            vendor_text, invoice_number = row.text("vendor"), row.text("invoice_number")
            if not vendor_text or not invoice_number:
                continue
            key = (vendor_text, invoice_number)
            if current is None or key != current.key:
                if key in seen:
                    message = (
                        f"Invoice {invoice_number} of {vendor_text} already appeared in row {seen[key]}: "
                        "give each invoice once, its lines one after the other."
                    )
                    result.problem(number, "invoice_number", invoice_number, message)
                    continue
                if rows_in_batch >= BATCH_ROWS:
                    batch.process(groups)
                    progress(result.rows)
                    groups, rows_in_batch = [], 0
                seen[key] = number
                current = InvoiceRows(
                    vendor_text=vendor_text,
                    number=invoice_number,
                    first_row=number,
                    header={c: (parsed or {}).get(c) for c in INVOICE_HEADER_COLUMNS},
                    header_raw={c: row.raw(c) for c in (*INVOICE_HEADER_COLUMNS, "invoice_number", "vendor")},
                )
                current.broken = parsed is None
                groups.append(current)
            else:
                for column in INVOICE_HEADER_COLUMNS:
                    if str(row.raw(column)).strip() != str(current.header_raw[column]).strip():
                        message = (
                            f"Differs from row {current.first_row}, the invoice's first line: "
                            "each line of an invoice repeats the same header."
                        )
                        result.problem(number, column, row.raw(column), message)
                        parsed = None
                current.broken = current.broken or parsed is None
            rows_in_batch += 1
            if parsed is not None:
                current.lines.append({"row": number, **{k: parsed[k] for k in (*LINE_KEYS, "tax")}})
        if groups:
            batch.process(groups)
        batch.finish()
        progress(result.rows)
        if result.problems or job.dry_run:
            transaction.set_rollback(True)
    return result


# --- Purchase orders, receipts and payments: through their services ----------------------------

SERVICE_ERRORS = (ValidationError, TransitionNotAllowed, PermissionDenied)


def find_vendor(text: str) -> Vendor:
    """A vendor by its code, else by its exact legal name; a ``RowProblem`` when unknown or ambiguous."""
    vendor = Vendor.objects.filter(code=text).first()
    if vendor is not None:
        return vendor
    named = list(Vendor.objects.filter(legal_name=text)[:2])
    if len(named) == 1:
        return named[0]
    if named:
        raise RowProblem("vendor", f"Several vendors are named {text!r}: give the vendor's code.")
    raise RowProblem("vendor", f"Unknown vendor {text!r}: give its code or exact legal name.")


def _service_import(*, job, table, progress, resource, unit: str, key, save) -> imports.BulkImportResult:
    """Rows grouped by ``key(row)`` (a group's rows one after the other), each group saved by ``save(rows)``.

    ``save`` calls the app's service and returns ``"new"`` or ``"unchanged"`` with a text for the preview;
    it raises ``RowProblem`` or a service error. Everything runs in one transaction, rolled back when any
    row has a problem or for a dry run.
    """
    columns = column_positions(table.headers, resource)
    result = imports.BulkImportResult(unit=unit)
    seen: dict = {}

    def flush(rows: list[Row]) -> None:
        try:
            with transaction.atomic():
                kind, text = save(rows)
            result.count(kind, text)
        except RowProblem as problem:
            result.problem(rows[0].number, problem.column, rows[0].raw(problem.column), problem.message)
        except SERVICE_ERRORS as exc:
            for name, message in _messages(exc):
                column = name if name in columns else ""
                result.problem(rows[0].number, column, rows[0].raw(column) if column else "", message)

    with transaction.atomic():
        current_key, rows = None, []
        for number, values in table.rows:
            result.rows += 1
            row = Row(number, values, columns)
            try:
                row_key = key(row)
            except RowProblem as problem:
                result.problem(number, problem.column, row.raw(problem.column), problem.message)
                continue
            if row_key != current_key:
                if rows:
                    flush(rows)
                if row_key in seen:
                    message = f"Also in row {seen[row_key]}: give each record once, its lines one after the other."
                    result.problem(number, "", "", message)
                    current_key, rows = None, []
                    continue
                seen[row_key] = number
                current_key, rows = row_key, []
            rows.append(row)
            if result.rows % BATCH_ROWS == 0:
                progress(result.rows)
        if rows:
            flush(rows)
        progress(result.rows)
        if result.problems or job.dry_run:
            transaction.set_rollback(True)
    return result


def import_purchase_orders(*, job, table, progress) -> imports.BulkImportResult:
    """Purchase orders with lines, one row per line; an order already entered must be the same (no update)."""
    actor = job.created_by

    def key(row: Row):
        return row.text("po_number", required="Give the purchase order number.")

    def save(rows: list[Row]):
        first = rows[0]
        vendor = find_vendor(first.text("vendor", required="Give the vendor's code or legal name."))
        number = key(first)
        lines = []
        for row in rows:
            try:
                lines.append(
                    {
                        "item_code": row.text("item_code"),
                        "description": row.text("description"),
                        "quantity": row.quantity("quantity", default=None),
                        "unit_price": row.money("unit_price"),
                        "promised_date": row.date("promised_date", required="Give the promised date."),
                    }
                )
            except RowProblem as problem:
                raise RowProblem(problem.column, f"Row {row.number}: {problem.message}") from problem
        existing = PurchaseOrder.objects.filter(number=number).first()
        if existing is not None:
            old = list(
                existing.lines.order_by("line_number").values_list(
                    "item_code", "description", "quantity", "unit_price", "promised_date"
                )
            )
            new = [
                (
                    ln["item_code"],
                    ln["description"] or ln["item_code"],
                    ln["quantity"],
                    ln["unit_price"],
                    ln["promised_date"],
                )
                for ln in lines
            ]
            if existing.vendor_id == vendor.pk and old == new:
                return "unchanged", str(existing)
            raise RowProblem("po_number", f"Purchase order {number} already exists with other values: change it there.")
        order = services.purchase_order_create(
            actor=actor,
            vendor_id=vendor.pk,
            number=number,
            order_date=first.date("order_date", required="Give the order date."),
            lines=lines,
            currency=first.text("currency").upper(),
            notes=first.text("notes"),
        )
        return "new", str(order)

    return _service_import(
        job=job,
        table=table,
        progress=progress,
        resource=PurchaseOrderLineResource,
        unit="purchase orders",
        key=key,
        save=save,
    )


def import_receipts(*, job, table, progress) -> imports.BulkImportResult:
    """Goods receipts, one per row, against a purchase order line; the same receipt again changes nothing."""
    actor = job.created_by

    def key(row: Row):
        return (
            row.text("po_number", required="Give the purchase order number."),
            row.text("line_number", required="Give the purchase order line number."),
            row.date("received_date", required="Give the date the goods were received."),
            row.text("reference"),
        )

    def save(rows: list[Row]):
        row = rows[0]
        po_number, line_number, received_date, reference = key(row)
        if not line_number.isdigit():
            raise RowProblem("line_number", f"{line_number!r} is not a line number.")
        po_line = PurchaseOrderLine.objects.filter(
            purchase_order__number=po_number, line_number=int(line_number)
        ).first()
        if po_line is None:
            raise RowProblem("line_number", f"Purchase order {po_number} has no line {line_number}.")
        received = row.quantity("quantity_received")
        try:
            damaged = Decimal(row.text("quantity_damaged") or "0").quantize(Decimal("0.001"))
        except ArithmeticError as exc:
            raise RowProblem("quantity_damaged", f"{row.raw('quantity_damaged')!r} is not a quantity.") from exc
        existing = GoodsReceipt.objects.filter(
            po_line=po_line, received_date=received_date, reference=reference
        ).first()
        if existing is not None:
            if (existing.quantity_received, existing.quantity_damaged) == (received, damaged):
                return "unchanged", str(existing)
            raise RowProblem(
                "quantity_received", f"This receipt is already recorded with {existing.quantity_received} received."
            )
        receipt = services.receipt_record(
            actor=actor,
            po_line_id=po_line.pk,
            received_date=received_date,
            quantity_received=received,
            quantity_damaged=damaged,
            reference=reference,
        )
        return "new", str(receipt)

    return _service_import(
        job=job, table=table, progress=progress, resource=GoodsReceiptResource, unit="receipts", key=key, save=save
    )


def _payment_method(text: str) -> str:
    if not text:
        return Payment.Method.ACH
    wanted = imports.header_key(text)
    for value, label in Payment.Method.choices:
        if wanted in (imports.header_key(value), imports.header_key(label)):
            return value
    raise RowProblem("method", f"Unknown payment method {text!r}: choose {', '.join(Payment.Method.values)}.")


def import_payments(*, job, table, progress) -> imports.BulkImportResult:
    """Payments, one per row, through ``payment_record`` (balances, status, vendor blocks); idempotent by reference."""
    actor = job.created_by

    def key(row: Row):
        return (_payment_method(row.text("method")), row.text("reference", required="Give the payment reference."))

    def save(rows: list[Row]):
        row = rows[0]
        method, reference = key(row)
        vendor = find_vendor(row.text("vendor", required="Give the vendor's code or legal name."))
        number = row.text("invoice_number", required="Give the vendor's invoice number.")
        invoice = Invoice.objects.filter(vendor=vendor, number=number).exclude(status=Invoice.Status.CANCELLED).first()
        if invoice is None:
            raise RowProblem("invoice_number", f"Vendor {vendor.code} has no invoice {number}.")
        amount = row.money("amount", positive=True)
        if amount is None:
            raise RowProblem("amount", "Give the amount paid.")
        payment_date = row.date("payment_date", required="Give the payment date.")
        existing = Payment.objects.filter(method=method, reference=reference).first()
        if existing is not None:
            if (existing.invoice_id, existing.amount, existing.payment_date) == (invoice.pk, amount, payment_date):
                return "unchanged", str(existing)
            raise RowProblem("reference", f"A {method} payment with reference {reference} is already recorded.")
        payment = services.payment_record(
            invoice_id=invoice.pk,
            actor=actor,
            amount=amount,
            payment_date=payment_date,
            reference=reference,
            method=method,
        )
        return "new", str(payment)

    return _service_import(
        job=job, table=table, progress=progress, resource=PaymentResource, unit="payments", key=key, save=save
    )
