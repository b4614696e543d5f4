"""
Building blocks of import resources (django-import-export), shared by every app's ``resources.py``.

``ServiceSavedResource`` saves each row through the app's service as the importing user.
``CheckedImportResource`` adds the file checks every import target wants: only the declared columns
(after ``header_aliases`` are applied), the required ones present, a record (its natural key) named
once per file, and every value parsed with a message that names its column (``column(...)`` with
the parsers here).
"""

from datetime import date, datetime
from decimal import InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.dateparse import parse_date
from import_export import fields, resources, widgets

from apps.core import imports
from apps.core.money import parse_amount, validate_currency


class ServiceSavedResource(resources.ModelResource):
    """Saves each imported row through the app's service, as the importing user."""

    def save_instance(self, instance, is_create, row, **kwargs):
        self.before_save_instance(instance, row, **kwargs)
        saved = self.save_through_service(instance, is_create, actor=kwargs.get("user"))
        instance.pk = saved.pk
        self.after_save_instance(instance, row, **kwargs)

    def save_through_service(self, instance, is_create, *, actor):
        raise NotImplementedError

    def import_instance(self, instance, row, **kwargs):
        """Every column's problem at once, named by its column (not only the first), for the error report."""
        errors: dict = {}
        for field in self.get_import_fields():
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    exc.update_error_dict(errors)
                else:
                    errors.setdefault(field.column_name, []).extend(exc.messages)
            except ValueError as exc:
                errors.setdefault(field.column_name, []).append(str(exc))
            except InvalidOperation:  # a number column's widget could not read the cell as a number
                errors.setdefault(field.column_name, []).append(f"{row.get(field.column_name)!r} is not a number.")
        if errors:
            raise ValidationError(errors)


def _blank(value) -> bool:
    return value is None or str(value).strip() == ""


class ParsedWidget(widgets.Widget):
    """A cell parsed by ``parse(text)``, which raises ``ValidationError`` naming the column when wrong.

    An empty cell is ``None``: on a new record the model's default applies, on an existing one the
    value stays as it is.
    """

    def __init__(self, parse, *, required_as: str = "", **kwargs):
        super().__init__(**kwargs)
        self.parse = parse
        self.required_as = required_as

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            if self.required_as:
                raise ValidationError({self.required_as: "This cell cannot be empty."})
            return None
        if isinstance(value, float):  # XLSX numbers; parsers take text, never floats
            value = repr(value)
        return self.parse(value if isinstance(value, date | datetime) else str(value).strip())

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class LookupWidget(widgets.ForeignKeyWidget):
    """A related record named by its natural key (a code or reference); an unknown one is a row error."""

    def __init__(self, model, field, *, column: str, label: str, **kwargs):
        super().__init__(model, field=field, **kwargs)
        self.column = column
        self.label = label

    def clean(self, value, row=None, **kwargs):
        if _blank(value):
            raise ValidationError({self.column: f"Give the {self.label}."})
        text = str(value).strip()
        found = self.get_queryset(value, row, **kwargs).filter(**{self.field: text}).first()
        if found is None:
            raise ValidationError({self.column: f"There is no {self.label} {text!r}."})
        return found


def text_parser(column: str, *, max_length: int | None = None):
    def parse(text):
        if max_length and len(text) > max_length:
            raise ValidationError({column: f"At most {max_length} characters."})
        return text

    return parse


def choice_parser(column: str, choices, *, refused: dict[str, str] | None = None):
    """A choice given as its value or its label, in any case; ``refused`` values get their own message."""

    def parse(text):
        lowered = text.casefold()
        for value, label in choices:
            if lowered in (str(value).casefold(), str(label).casefold()):
                if refused and value in refused:
                    raise ValidationError({column: refused[value]})
                return value
        allowed = [value for value, _ in choices if not refused or value not in refused]
        raise ValidationError({column: f"{text!r} is not one of: {', '.join(allowed)}."})

    return parse


BOOLEANS = {"1": True, "yes": True, "y": True, "true": True, "0": False, "no": False, "n": False, "false": False}


def boolean_parser(column: str):
    def parse(text):
        if text.casefold() not in BOOLEANS:
            raise ValidationError({column: f"{text!r} is not yes or no."})
        return BOOLEANS[text.casefold()]

    return parse


def date_parser(column: str):
    def parse(value):
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            parsed = parse_date(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError({column: f"{value!r} is not a date: write it as YYYY-MM-DD."})
        return parsed

    return parse


def currency_parser(column: str):
    def parse(text):
        code = text.upper()
        try:
            validate_currency(code)
        except ValidationError as exc:
            raise ValidationError({column: exc.messages}) from None
        return code

    return parse


def money_parser(column: str, *, allow_zero: bool = True):
    def parse(text):
        return parse_amount(text, field=column, allow_zero=allow_zero)

    return parse


def email_parser(column: str):
    def parse(text):
        try:
            validate_email(text)
        except ValidationError:
            raise ValidationError({column: f"{text!r} is not an e-mail address."}) from None
        return text

    return parse


def column(name: str, parse=None, *, attribute: str | None = None, widget=None, required=False) -> fields.Field:
    """A declared import column; empty cells leave the value as it is, unless the column is ``required``."""
    return fields.Field(
        attribute=attribute or name,
        column_name=name,
        widget=widget or ParsedWidget(parse or text_parser(name), required_as=name if required else ""),
        saves_null_values=False,
    )


class CheckedImportResource(ServiceSavedResource):
    """An import resource that refuses undeclared or missing columns and a record named twice in a file."""

    header_aliases: dict[str, tuple[str, ...]] = {}
    required_columns: tuple[str, ...] = ()

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        headers = [str(header) for header in dataset.headers or []]
        declared = [field.column_name for field in self.get_import_fields()]
        unknown = [header for header in headers if header not in declared]
        missing = [name for name in self.required_columns if name not in headers]
        problems = []
        if unknown:
            problems.append(f"Unknown column(s): {', '.join(unknown)}. The columns are: {', '.join(declared)}.")
        if missing:
            problems.append(f"Missing required column(s): {', '.join(missing)}.")
        self._first_row_of_key: dict[tuple, int] = {}
        if problems:
            del dataset[0 : len(dataset)]  # no row is read from a file whose columns are wrong
            raise imports.ImportFileError(" ".join(problems))

    def _check_import_id_fields(self, headers):
        """Missing key columns are reported by ``before_import``, in words the uploader knows."""

    def natural_key(self, row) -> tuple:
        return tuple(str(row.get(self.fields[name].column_name) or "").strip().casefold() for name in self.key_fields())

    def key_fields(self) -> list[str]:
        return list(self.get_import_id_fields())

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        key = self.natural_key(row)
        if not all(key):
            return  # a missing key value is reported by its column
        number = kwargs.get("row_number", 0)
        first = self._first_row_of_key.setdefault(key, number)
        if first != number:
            names = [self.fields[name].column_name for name in self.key_fields()]
            raise ValidationError(
                {names[-1]: f"Row {first + 1} already has this {' + '.join(names)}: give each record once per file."}
            )
