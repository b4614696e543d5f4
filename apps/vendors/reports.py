"""The vendor scorecard report: every vendor ranked by its latest review."""

from apps.core.exports import export_response
from apps.vendors.selectors import vendor_ranking

HEADERS = ["rank", "code", "legal name", "category", "status", "latest score", "standing", "latest review end"]


def scorecard_rows():
    for rank, vendor in enumerate(vendor_ranking().iterator(), start=1):
        yield [
            rank if vendor.latest_score is not None else None,
            vendor.code,
            vendor.legal_name,
            vendor.get_category_display(),
            vendor.get_status_display(),
            vendor.latest_score,
            vendor.latest_standing,
            vendor.latest_review_end.isoformat() if vendor.latest_review_end else "",
        ]


def scorecard_export_response(request, fmt: str):
    return export_response(
        actor=request.user, name="vendor-scorecards", headers=HEADERS, rows=scorecard_rows(), fmt=fmt
    )
