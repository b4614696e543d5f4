"""
What an SOP attachment may be: a few document and image types, checked by name and by content,
and no larger than ``SOP_ATTACHMENT_MAX_BYTES`` (10 MB unless set).

Types that a browser could run (HTML, SVG, scripts) are never accepted, and downloads are always
served as attachments with the type decided here, not the one the uploader's browser claimed.
"""

import codecs
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class AllowedType:
    content_type: str
    magic: tuple[bytes, ...] = ()  # the file must start with one of these; empty: plain text
    text: bool = False


ALLOWED_TYPES = {
    "pdf": AllowedType("application/pdf", (b"%PDF-",)),
    "png": AllowedType("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": AllowedType("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": AllowedType("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": AllowedType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (ZIP_MAGIC,)),
    "xlsx": AllowedType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (ZIP_MAGIC,)),
    "pptx": AllowedType("application/vnd.openxmlformats-officedocument.presentationml.presentation", (ZIP_MAGIC,)),
    "txt": AllowedType("text/plain; charset=utf-8", text=True),
    "csv": AllowedType("text/csv; charset=utf-8", text=True),
}


def max_bytes() -> int:
    return int(getattr(settings, "SOP_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    sha256: str


def _clean_name(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in base if ch.isprintable())[:150]


def check_attachment(uploaded) -> CheckedFile:
    """Check an uploaded file's name, size and content. Raises ``ValidationError`` on ``file``."""
    name = _clean_name(getattr(uploaded, "name", ""))
    if not name or name.startswith("."):
        raise ValidationError({"file": "The file needs a name with an extension, e.g. checklist.pdf."})
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = ALLOWED_TYPES.get(extension)
    if allowed is None:
        kinds = ", ".join(sorted(ALLOWED_TYPES))
        raise ValidationError({"file": f"Files of type .{extension or '?'} are not accepted. Allowed: {kinds}."})
    size = uploaded.size
    limit = max_bytes()
    if size > limit:
        raise ValidationError(
            {"file": f"{name} is {size / 1_048_576:.1f} MB; attachments may be at most {limit / 1_048_576:.0f} MB."}
        )
    if size == 0:
        raise ValidationError({"file": f"{name} is empty."})
    digest = hashlib.sha256()
    head = b""
    text = codecs.getincrementaldecoder("utf-8")() if allowed.text else None
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        if len(head) < 4096:
            head += chunk[: 4096 - len(head)]
        digest.update(chunk)
        if text is not None:
            _check_text(text, chunk, name, final=False)
    if text is not None:
        _check_text(text, b"", name, final=True)
    uploaded.seek(0)
    if allowed.magic and not head.startswith(allowed.magic):
        raise ValidationError({"file": f"{name} does not look like a .{extension} file."})
    return CheckedFile(name=name, content_type=allowed.content_type, size=size, sha256=digest.hexdigest())


def _check_text(decoder, chunk: bytes, name: str, *, final: bool) -> None:
    if b"\x00" in chunk:
        raise ValidationError({"file": f"{name} is not a text file."})
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": f"{name} is not UTF-8 text."}) from exc
