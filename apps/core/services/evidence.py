"""Auditor evidence packs: one ZIP with the selected records, everything related, their full audit history,
the SOP versions in force at each approval, attachments, and a manifest of every file with its SHA-256.

A pack is built by the worker (an export job of kind ``evidence_pack``); ``manage.py verify_evidence_pack``
checks a pack against its manifest.
"""

import hashlib
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.core import exports
from apps.core.models import AuditEvent, ExportJob
from apps.core.permissions import require_perm

MANIFEST = "manifest.json"
MAX_RECORDS = 5000  # records selected for one pack


@dataclass
class Part:
    """One CSV of the pack: a model's rows with their columns."""

    name: str
    queryset: object
    columns: list


@dataclass
class Collected:
    """What a pack holds before it is written: CSV parts, SOP version ids, attachment files, audited records."""

    parts: list[Part] = field(default_factory=list)
    sop_version_ids: set = field(default_factory=set)
    sop_version_labels: set = field(default_factory=set)
    attachments: list = field(default_factory=list)  # (path in the pack, FieldFile)
    audited: dict = field(default_factory=lambda: defaultdict(set))  # model -> ids

    def add(self, name, queryset, columns=None):
        model = queryset.model
        ids = list(queryset.values_list("pk", flat=True))
        self.audited[model].update(str(pk) for pk in ids)
        self.parts.append(
            Part(
                name,
                queryset.model._default_manager.filter(pk__in=ids).order_by("pk"),
                columns or exports.model_columns(model),
            )
        )
        return ids


# --- What each kind of record brings with it ---------------------------------------------------------


def _invoices(collected: Collected, ids, actor):
    from apps.invoices.models import CreditMemo, DisputeContact, Invoice, InvoiceLine, Payment

    invoice_ids = collected.add("records/invoices.csv", Invoice.objects.filter(pk__in=ids))
    collected.add("records/invoice_lines.csv", InvoiceLine.objects.filter(invoice_id__in=invoice_ids))
    collected.add("records/payments.csv", Payment.objects.filter(invoice_id__in=invoice_ids))
    collected.add("records/credit_memos.csv", CreditMemo.objects.filter(invoice_id__in=invoice_ids))
    collected.add("records/dispute_contacts.csv", DisputeContact.objects.filter(invoice_id__in=invoice_ids))
    collected.sop_version_ids.update(
        Invoice.objects.filter(pk__in=invoice_ids, sop_version__isnull=False).values_list("sop_version_id", flat=True)
    )


def _refund_cases(collected: Collected, ids, actor):
    from apps.refunds.models import CaseApproval, CaseAttachment, Order, Payout, RefundCase, ReturnLine
    from apps.refunds.pii import mask_email, mask_name

    case_ids = collected.add("records/cases.csv", RefundCase.objects.filter(pk__in=ids))
    masks = {"customer_name": mask_name, "customer_email": mask_email}
    order_columns = [
        replace(c, mask=masks[c.header], shown_with="refunds.view_customer_pii") if c.header in masks else c
        for c in exports.model_columns(Order)
    ]
    collected.add("records/orders.csv", Order.objects.filter(cases__in=case_ids).distinct(), order_columns)
    collected.add("records/approvals.csv", CaseApproval.objects.filter(case_id__in=case_ids))
    collected.add("records/payouts.csv", Payout.objects.filter(case_id__in=case_ids))
    collected.add("records/return_lines.csv", ReturnLine.objects.filter(case_id__in=case_ids))
    collected.add("records/attachments.csv", CaseAttachment.objects.filter(case_id__in=case_ids))
    collected.sop_version_labels.update(
        label
        for label in CaseApproval.objects.filter(case_id__in=case_ids).values_list("sop_version", flat=True)
        if label
    )
    for attachment in CaseAttachment.objects.filter(case_id__in=case_ids).select_related("case").order_by("pk"):
        name = attachment.file.name.rsplit("/", 1)[-1]
        collected.attachments.append(
            (f"attachments/{attachment.case.reference}/{attachment.pk}-{name}", attachment.file)
        )


@dataclass(frozen=True)
class PackKind:
    """A kind of record an evidence pack can be built for: its model, API filters and what it brings along."""

    label: str
    filterset: str
    collect: Callable


PACK_KINDS = {
    "invoices.invoice": PackKind("invoices.invoice", "apps.invoices.filters.InvoiceFilter", _invoices),
    "refunds.refundcase": PackKind("refunds.refundcase", "apps.refunds.filters.RefundCaseFilter", _refund_cases),
}


def pack_kind(target: str) -> PackKind:
    model = apps.get_model(target) if "." in target else None
    label = model._meta.concrete_model._meta.label_lower if model is not None else target
    if label not in PACK_KINDS:
        raise ValidationError({"target": f"Evidence packs are built for {' and '.join(PACK_KINDS)}, not {target!r}."})
    return PACK_KINDS[label]


def selected_ids(*, target: str, ids=None, filters: dict | None = None) -> list:
    """The ids a pack covers: the ticked records, or every record the filters (the API's) select."""
    kind = pack_kind(target)
    model = apps.get_model(kind.label)
    queryset = model._default_manager.all()
    if filters:
        filterset = import_string(kind.filterset)(data=filters, queryset=queryset)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        queryset = filterset.qs
    if ids:
        queryset = queryset.filter(pk__in=ids)
    elif not filters:
        raise ValidationError({"ids": "Select the records for the evidence pack, by ids or filters."})
    found = list(queryset.order_by("pk").values_list("pk", flat=True)[: MAX_RECORDS + 1])
    if not found:
        raise ValidationError({"ids": "The selection holds no records."})
    if len(found) > MAX_RECORDS:
        raise ValidationError({"ids": f"An evidence pack holds at most {MAX_RECORDS:,} records; narrow the selection."})
    return found


def evidence_pack_request(*, actor, target: str, ids=None, filters: dict | None = None) -> ExportJob:
    """Queue an evidence pack of the selected records for the worker."""
    from apps.core.services.exports import export_job_create

    require_perm(actor, exports.EXPORT_PERMISSION, "You may not export records.")
    kind = pack_kind(target)
    if not actor.has_perm(f"{kind.label.split('.')[0]}.view_{kind.label.split('.')[1]}"):
        raise PermissionDenied("You may not read these records.")
    found = selected_ids(target=kind.label, ids=ids, filters=filters)
    return export_job_create(
        actor=actor,
        target=kind.label,
        file_format="zip",
        source={"ids": [str(pk) for pk in found]},
        filters={"ids": [str(pk) for pk in ids or []], **(filters or {})},
        kind=ExportJob.Kind.EVIDENCE_PACK,
    )


# --- Audit history and SOPs --------------------------------------------------------------------------

CHANGE_COLUMNS = [
    exports.Column("timestamp", "timestamp", False),
    exports.Column("app_label", "content_type__app_label"),
    exports.Column("model", "content_type__model"),
    exports.Column("object_pk", "object_pk"),
    exports.Column("object_repr", "object_repr"),
    exports.Column("action", "action", False),
    exports.Column("changes", "changes", text=False, json=True),
    exports.Column("actor", "actor__username"),
    exports.Column("additional_data", "additional_data", text=False, json=True),
    exports.Column("remote_addr", "remote_addr", False),
]
EVENT_COLUMNS = [
    exports.Column("timestamp", "timestamp", False),
    exports.Column("action", "action"),
    exports.Column("outcome", "outcome"),
    exports.Column("username", "username"),
    exports.Column("path", "path"),
    exports.Column("request_path", "request_path"),
    exports.Column("remote_addr", "remote_addr", False),
    exports.Column("app_label", "target_type__app_label"),
    exports.Column("model", "target_type__model"),
    exports.Column("target_id", "target_id"),
    exports.Column("target_repr", "target_repr"),
    exports.Column("message", "message"),
    exports.Column("data", "data", text=False, json=True),
]
PII_FIELDS = {"customer_name", "customer_email"}


def _history_filter(audited, type_field: str, id_field: str) -> Q:
    condition = Q(pk__in=[])
    for model, ids in audited.items():
        content_type = ContentType.objects.get_for_model(model)
        condition |= Q(**{type_field: content_type, f"{id_field}__in": sorted(ids)})
    return condition


def _masked_changes(rows, actor):
    """Personal data in recorded changes is masked for those who may not see it, as on the records."""
    from apps.refunds.pii import can_see_pii

    if can_see_pii(actor):
        yield from rows
        return
    for row in rows:
        changes = row[6]
        if isinstance(changes, dict) and PII_FIELDS & set(changes):
            row = list(row)
            row[6] = {key: (["***", "***"] if key in PII_FIELDS else value) for key, value in changes.items()}
        yield row


# How refund approvals record the SOP version in force: "RF-001 v3", optionally followed by " (#<id>)".
SOP_LABEL = re.compile(r"^(?P<code>\S+) v(?P<number>\d+)(?: \(#(?P<pk>\d+)\))?$")


def _sop_versions(collected: Collected):
    from apps.sops.models import SOPVersion

    condition = Q(pk__in=collected.sop_version_ids)
    for label in collected.sop_version_labels:
        match = SOP_LABEL.match(label)
        if match and match["pk"]:
            condition |= Q(pk=int(match["pk"]), document__code=match["code"], number=int(match["number"]))
        elif match:
            condition |= Q(document__code=match["code"], number=int(match["number"]))
    return SOPVersion.objects.filter(condition).select_related("document").prefetch_related("attachments")


# --- Writing and checking ----------------------------------------------------------------------------


def evidence_pack_write(*, job: ExportJob, handle) -> tuple[int, str]:
    """Write the ZIP of ``job``'s selection to ``handle``; returns (records selected, SHA-256 of the ZIP)."""
    actor = job.created_by
    kind = pack_kind(job.target)
    ids = job.source.get("ids") or []
    collected = Collected()
    kind.collect(collected, ids, actor)
    files: list[dict] = []
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, content: bytes):
            archive.writestr(name, content)
            files.append({"name": name, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()})

        for part in collected.parts:
            put(part.name, _csv(exports.queryset_csv_stream(part.queryset, part.columns, actor=actor)))
        changes = LogEntry.objects.filter(_history_filter(collected.audited, "content_type", "object_pk"))
        change_rows = exports.queryset_rows(changes.order_by("timestamp", "pk"), CHANGE_COLUMNS)
        put(
            "audit/changes.csv",
            _csv(exports.CSVStream([c.header for c in CHANGE_COLUMNS], _masked_changes(change_rows, actor))),
        )
        events = AuditEvent.objects.filter(_history_filter(collected.audited, "target_type", "target_id"))
        put("audit/events.csv", _csv(exports.queryset_csv_stream(events.order_by("timestamp", "pk"), EVENT_COLUMNS)))
        versions = list(_sop_versions(collected))
        index = [["document", "number", "title", "status", "published_at", "retired_at", "file"]]
        for version in versions:
            stem = f"sops/{version.document.code}-v{version.number}"
            put(f"{stem}.md", version.body.encode("utf-8"))
            index.append(
                [
                    version.document.code,
                    version.number,
                    version.document.title,
                    version.status,
                    version.published_at,
                    version.retired_at,
                    f"{stem}.md",
                ]
            )
            for attachment in version.attachments.all():
                with attachment.file.open("rb") as stored:
                    put(f"{stem}/{attachment.name}", stored.read())
        put("sops/versions.csv", _csv(exports.CSVStream(index[0], index[1:])))
        for name, stored_file in collected.attachments:
            with stored_file.open("rb") as stored:
                put(name, stored.read())
        manifest = {
            "pack": job.pk,
            "target": kind.label,
            "records": len(ids),
            "selection": job.filters,
            "built_by": actor.get_username(),
            "built_at": timezone.now().isoformat(),
            "files": files,
        }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, default=str))
    handle.flush()
    handle.seek(0)
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(block)
    return len(ids), digest.hexdigest()


def _csv(stream) -> bytes:
    return b"".join(stream)


class EvidencePackInvalid(Exception):
    """A pack that does not match its manifest; ``problems`` lists each mismatch, missing or extra file."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def evidence_pack_verify(source) -> dict:
    """Check a pack (a path or binary file) against its manifest; returns the manifest or raises EvidencePackInvalid."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise EvidencePackInvalid([f"not a readable ZIP file: {exc}"]) from exc
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        if MANIFEST not in names:
            raise EvidencePackInvalid([f"{MANIFEST} is missing"])
        try:
            manifest = json.loads(archive.read(MANIFEST))
            listed = {entry["name"]: entry for entry in manifest["files"]}
        except (ValueError, KeyError, TypeError) as exc:
            raise EvidencePackInvalid([f"{MANIFEST} is not a valid manifest: {exc}"]) from exc
        problems = []
        for name in sorted(set(listed) - set(names)):
            problems.append(f"missing file: {name}")
        for name in sorted(set(names) - set(listed) - {MANIFEST}):
            problems.append(f"extra file not in the manifest: {name}")
        if len(names) != len(set(names)):
            problems.append("the archive holds a file name twice")
        for name in sorted(set(listed) & set(names)):
            digest = hashlib.sha256()
            with archive.open(name) as member:
                for block in iter(lambda: member.read(1024 * 1024), b""):
                    digest.update(block)
            if digest.hexdigest() != listed[name].get("sha256"):
                problems.append(f"SHA-256 mismatch: {name}")
    if problems:
        raise EvidencePackInvalid(problems)
    return manifest
