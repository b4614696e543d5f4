"""
The rows of a changelist drawn the way Django's admin draws them, at a fraction of the cost.

Django's ``items_for_result`` works out, for every cell of every row, what kind of column it is (a model
field, an admin method, a model attribute), its label, classes and choices, reverses the row's change URL
and adds the list's filters to it; the results template then loops over every cell. Here each column is
worked out once per page, the change URL is reversed once and filled in with each row's key, and a row
is handed to the template as one piece of markup. The markup is the same as Django's: the same cells,
classes, escaping (every value escaped as ``conditional_escape`` escapes it), links and empty values.

Lists with editable fields, pop-up pickers and ``to_field`` links are left to Django's own code.
"""

import contextlib
import datetime
import decimal
import html
from urllib.parse import quote as url_quote

from django.conf import settings
from django.contrib.admin.templatetags.admin_list import (
    ResultList,
    _coerce_field_name,
    result_headers,
    result_hidden_fields,
    results,
)
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import (
    FieldIsAForeignKeyColumnName,
    _get_non_gfk_field,
    display_for_field,
    display_for_value,
    lookup_field,
)
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.core.validators import EMPTY_VALUES
from django.db import models
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import dateformat, formats, numberformat, timezone
from django.utils.formats import get_format
from django.utils.functional import Promise
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

# Stands for a row's key in the change URL reversed once per page (a path segment no key looks like).
_KEY = "0rowkey0"
_MISSING = object()


def _split_date_format(format_string) -> tuple[str, list[str], bool]:
    """A date format split once into literal text and specifiers, as ``dateformat.format`` splits it each time."""
    pieces = dateformat.re_formatchars.split(str(format_string))
    parts = [piece if i % 2 else dateformat.re_escaped.sub(r"\1", piece) for i, piece in enumerate(pieces)]
    has_time = any(hasattr(dateformat.TimeFormat, piece) for piece in pieces[1::2])
    return str(format_string), parts, has_time


def _format_date(value, split) -> str:
    """``dateformat.format(value, format_string)`` with the format split beforehand."""
    format_string, parts, has_time = split
    if has_time and type(value) is datetime.date:
        return dateformat.format(value, format_string)  # raises as Django does: a date has no time
    formatter = dateformat.DateFormat(value)
    return "".join(str(getattr(formatter, part)()) if i % 2 else part for i, part in enumerate(parts))


class _Formats:
    """Django's ``formats.localize`` / ``number_format`` with the locale's formats read once per page."""

    def __init__(self):
        lang = get_language()
        self.decimal_separator = get_format("DECIMAL_SEPARATOR", lang, use_l10n=True)
        self.grouping = get_format("NUMBER_GROUPING", lang, use_l10n=True)
        self.thousand_separator = get_format("THOUSAND_SEPARATOR", lang, use_l10n=True)
        self.datetime_format = _split_date_format(get_format("DATETIME_FORMAT"))
        self.date_format = _split_date_format(get_format("DATE_FORMAT"))

    def number(self, value, decimal_pos=None) -> str:
        return numberformat.format(
            value,
            self.decimal_separator,
            decimal_pos,
            self.grouping,
            self.thousand_separator,
            force_grouping=False,
            use_l10n=True,
        )

    def localize(self, value):
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, (decimal.Decimal, float, int)):
            return self.number(value)
        if isinstance(value, datetime.datetime):
            return _format_date(value, self.datetime_format)
        if isinstance(value, datetime.date):
            return _format_date(value, self.date_format)
        return formats.localize(value)

    def for_value(self, value, empty_value_display, boolean=False):
        """``django.contrib.admin.utils.display_for_value``."""
        if boolean or isinstance(value, (list, tuple)):
            return display_for_value(value, empty_value_display, boolean)
        if value in EMPTY_VALUES:
            return empty_value_display
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, datetime.datetime):
            return self.localize(timezone.template_localtime(value))
        if isinstance(value, (datetime.date, datetime.time, int, decimal.Decimal, float)):
            return self.localize(value)
        return str(value)

    def for_field(self, value, field, empty_value_display, avoid_link):
        """``django.contrib.admin.utils.display_for_field`` for a field without choices."""
        if isinstance(field, models.BooleanField):
            return display_for_field(value, field, empty_value_display, avoid_link=avoid_link)
        if value in field.empty_values:
            return empty_value_display
        if isinstance(field, models.DateTimeField):
            return self.localize(timezone.template_localtime(value))
        if isinstance(field, (models.DateField, models.TimeField)):
            return self.localize(value)
        if isinstance(field, models.DecimalField):
            return self.number(value, field.decimal_places)
        if isinstance(field, (models.IntegerField, models.FloatField)):
            return self.number(value)
        return display_for_field(value, field, empty_value_display, avoid_link=avoid_link)


class _Column:
    """One ``list_display`` entry, worked out once per page."""

    __slots__ = (
        "attr",
        "base_classes",
        "boolean",
        "choices",
        "classes",
        "default_empty",
        "empty",
        "field",
        "getter",
        "is_relation",
        "link",
        "name",
    )

    def __init__(self, name, index, model_admin, opts, empty, link):
        self.name = name
        self.link = link  # None, or the tag ("th" / "td") of the cell holding the change link
        self.base_classes = [f"field-{_coerce_field_name(name, index)}"]  # a cell whose record is missing
        self.classes = list(self.base_classes)
        self.empty = self.default_empty = empty
        self.field = self.attr = self.getter = self.choices = None
        self.boolean = self.is_relation = False
        with contextlib.suppress(FieldDoesNotExist, FieldIsAForeignKeyColumnName):
            self.field = _get_non_gfk_field(opts, name)
        if self.field is not None:
            if self.field.auto_created:
                return  # shown as a plain value, like a method's
            self.is_relation = isinstance(self.field.remote_field, models.ManyToOneRel)
            if not self.is_relation and getattr(self.field, "flatchoices", None):
                try:
                    self.choices = dict(self.field.flatchoices)
                except TypeError:  # list-like choices: Django's own code handles them
                    self.choices = None
            if isinstance(self.field, (models.DateField, models.TimeField, models.ForeignKey)):
                self.classes.append("nowrap")
            return
        # Not a model field: the same order of lookups as django.contrib.admin.utils.lookup_field.
        if callable(name):
            self.getter = self.attr = name
        elif hasattr(model_admin, name) and name != "__str__":
            self.getter = self.attr = getattr(model_admin, name)
        if hasattr(model_admin, "model") and hasattr(model_admin.model, name):
            self.attr = getattr(model_admin.model, name)
        if self.getter is not None:
            self._read_display_options()
        if name == "action_checkbox":
            self.classes = ["action-checkbox"]

    def _read_display_options(self):
        attr = self.attr
        self.empty = getattr(attr, "empty_value_display", self.empty)
        self.boolean = getattr(attr, "boolean", False)
        if isinstance(attr, property) and hasattr(attr, "fget"):
            self.boolean = getattr(attr.fget, "boolean", False)

    def cell(self, result, model_admin, fmt):
        """The cell's content (not yet escaped) and its classes."""
        classes = self.classes
        if self.field is not None:
            try:
                value = getattr(result, self.name)
            except ObjectDoesNotExist:
                return self.default_empty, self.base_classes
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if self.field.auto_created:
                if isinstance(value, (datetime.date, datetime.time)):
                    classes = [*classes, "nowrap"]
                return fmt.for_value(value, self.empty), classes
            if self.is_relation:
                return (self.empty if value is None else value), classes
            if self.choices is not None:
                return self.choices.get(value, self.empty), classes
            return fmt.for_field(value, self.field, self.empty, self.link is not None), classes
        try:
            if self.getter is not None:
                value, empty, boolean = self.getter(result), self.empty, self.boolean
            else:  # a model attribute or property: Django's own lookup, row by row
                _, attr, value = lookup_field(self.name, result, model_admin)
                empty = getattr(attr, "empty_value_display", self.empty)
                boolean = getattr(attr, "boolean", False)
                if isinstance(attr, property) and hasattr(attr, "fget"):
                    boolean = getattr(attr.fget, "boolean", False)
        except ObjectDoesNotExist:  # Django shows the list's empty value, with the column's field class
            return self.default_empty, self.base_classes
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if isinstance(value, (datetime.date, datetime.time)):
            classes = [*classes, "nowrap"]
        return fmt.for_value(value, empty, boolean), classes


def _columns(cl) -> list[_Column]:
    model_admin = cl.model_admin
    empty = model_admin.get_empty_value_display()
    links = cl.list_display_links
    columns, first = [], True
    for index, name in enumerate(cl.list_display):
        if links is None:
            link = None
        elif (first and not links) or name in links:
            link = "th" if first else "td"
            first = False
        else:
            link = None
        columns.append(_Column(name, index, model_admin, cl.lookup_opts, empty, link))
    return columns


_CHANGE_URLS: dict[tuple, str] = {}


def admin_change_url(app_label: str, model_name: str, pk, *, current_app: str | None = None) -> str:
    """``reverse("admin:<app>_<model>_change", args=[pk])``, reversed once per model for integer keys.

    Raises ``NoReverseMatch`` as ``reverse`` does. For columns that link every row to a related record.
    """
    viewname = f"admin:{app_label}_{model_name}_change"
    if not isinstance(pk, int) or isinstance(pk, bool):
        return reverse(viewname, args=[pk], current_app=current_app)
    key = (viewname, current_app, get_urlconf(), get_script_prefix(), settings.ROOT_URLCONF)
    template = _CHANGE_URLS.get(key)
    if template is None:
        template = _CHANGE_URLS[key] = reverse(viewname, args=[_KEY], current_app=current_app)
    return template.replace(_KEY, str(pk), 1)


def _change_url_template(cl) -> str | None:
    """The change URL of a row with ``_KEY`` for its key, the list's filters kept; None when there is none."""
    opts = cl.opts
    try:
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=(_KEY,),
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return None
    return add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": opts}, url)


def _escape(value) -> str:
    """``conditional_escape`` (the same text) without its lazy-argument wrapper on every cell."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _row(cl, result, columns, url_template, fmt) -> str:
    model_admin = cl.model_admin
    cells = []
    for column in columns:
        content, classes = column.cell(result, model_admin, fmt)
        row_class = f' class="{" ".join(classes)}"'
        content = _escape(content)
        if column.link is None:
            cells.append(f"<td{row_class}>{content}</td>")
            continue
        if url_template is None:
            link_or_text = content
        else:
            pk = result.pk
            if isinstance(pk, int):
                url = url_template.replace(_KEY, url_quote(str(pk), safe=RFC3986_SUBDELIMS + "/~:@"), 1)
            else:
                url = add_preserved_filters(
                    {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, cl.url_for_result(result)
                )
            link_or_text = f'<a href="{_escape(url)}">{content}</a>'
        cells.append(f"<{column.link}{row_class}>{link_or_text}</{column.link}>")
    return mark_safe("".join(cells))  # noqa: S308 - every value above went through _escape


def fast_results(cl):
    """Rows as Django's ``results(cl)`` gives them, each row's cells joined into one piece of markup."""
    if cl.formset or cl.is_popup or cl.to_field:
        yield from results(cl)
        return
    columns = _columns(cl)
    url_template = _change_url_template(cl)
    fmt = _Formats()
    for result in cl.result_list:
        yield ResultList(None, [_row(cl, result, columns, url_template, fmt)])


def fast_result_list(cl) -> dict:
    """The context of Django's ``result_list`` tag, with the rows from ``fast_results``."""
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": list(result_hidden_fields(cl)),
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": list(fast_results(cl)),
    }
