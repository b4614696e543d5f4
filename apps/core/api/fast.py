"""A fast read path for serializers: each field compiled once into a getter and a formatter.

DRF renders a row field by field through ``get_attribute`` and ``to_representation``, which is general
but slow for a page of a hundred rows with thirty fields each. ``FastRepresentationMixin`` looks at the
serializer's fields once per serializer instance (so once per request for a list) and, for the field
types it knows, reads the attribute and formats it directly; every other field, and every row where the
direct read meets something unusual (a missing related object, a callable, a value of another type),
goes through DRF exactly as before. The output is the same, value for value.
"""

import decimal
from datetime import date, datetime
from operator import attrgetter

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Prefetch
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

ISO_8601 = "iso-8601"
LISTED_PREFIX = "listed_"
PAGE_FORMATS = {"json", "api"}  # the JSON and browsable renderers: pages, not files


def listed(lookup: str, queryset=None) -> Prefetch:
    """Prefetch ``lookup`` into a plain list (``listed_<lookup>``), which nested serializers read first.

    Django's ordinary prefetch builds one queryset per row to hold its cache; a list costs nothing per row,
    which is what a page of a hundred rows with several nested lists needs.
    """
    return Prefetch(lookup, queryset=queryset, to_attr=LISTED_PREFIX + lookup)


class _Defer(Exception):
    """The direct read cannot tell: let DRF render this field for this row."""


def _same(cls, base, *methods) -> bool:
    """``cls`` is ``base`` or a subclass that changes none of ``methods`` (e.g. a schema-only subclass)."""
    return issubclass(cls, base) and all(getattr(cls, name) is getattr(base, name) for name in methods)


def _model_field(model, name):
    try:
        return model._meta.get_field(name)
    except Exception:  # FieldDoesNotExist, or not a model at all
        return None


def _plain_getter(model, source_attrs):
    """A getter for ``a.b.c`` through forward relations; ``None`` when the path is not one the fast path knows.

    The last name may be a property or an annotation; its value is checked not to be callable (DRF would call it).
    """
    if not source_attrs or model is None:
        return None
    current = model
    for name in source_attrs[:-1]:
        field = _model_field(current, name)
        if field is None or not field.is_relation or not field.concrete or field.many_to_many:
            return None
        current = field.related_model
    last = _model_field(current, source_attrs[-1])
    get = attrgetter(".".join(source_attrs))
    if last is not None and last.concrete and (not last.is_relation or source_attrs[-1] == last.attname):
        return get  # a column: a plain field, or a foreign key's id
    if last is not None:
        return None  # a relation, or a reverse one: DRF's rules apply

    def checked(instance):
        value = get(instance)
        if callable(value):
            raise _Defer
        return value

    return checked


def _decimal_formatter(field):
    if field.normalize_output or field.localize:
        return None
    if not getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING):
        return None
    if field.decimal_places is None:
        return None
    context = decimal.getcontext().copy()
    if field.max_digits is not None:
        context.prec = field.max_digits
    exponent = decimal.Decimal(".1") ** field.decimal_places
    rounding = field.rounding
    Decimal = decimal.Decimal

    def fmt(value):
        if type(value) is not Decimal:
            return field.to_representation(value)
        return f"{value.quantize(exponent, rounding=rounding, context=context):f}"

    return fmt


def _datetime_formatter(field):
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if output_format is None or output_format.lower() != ISO_8601:
        return None
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None:
        return None

    def fmt(value):
        if type(value) is not datetime or value.tzinfo is None:
            return field.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return fmt


def _date_formatter(field):
    output_format = getattr(field, "format", api_settings.DATE_FORMAT)
    if output_format is None or output_format.lower() != ISO_8601:
        return None

    def fmt(value):
        return value.isoformat() if type(value) is date else field.to_representation(value)

    return fmt


def _choice_formatter(field):
    mapping = field.choice_strings_to_values

    def fmt(value):
        return mapping.get(value, value) if type(value) is str and value != "" else field.to_representation(value)

    return fmt


def _boolean_formatter(field):
    def fmt(value):
        return value if value is True or value is False else field.to_representation(value)

    return fmt


def _identity(value):
    return value


def _nested_list(field, model):
    """A ``many=True`` nested serializer over a reverse or many-to-many relation: read the prefetched rows."""
    if len(field.source_attrs) != 1 or model is None:
        return None
    child = field.child
    if type(field).to_representation is not serializers.ListSerializer.to_representation:
        return None
    if type(field).get_attribute is not drf_fields.Field.get_attribute:
        return None
    name = field.source_attrs[0]
    relation = _model_field(model, name)
    if relation is None or not (relation.one_to_many or relation.many_to_many):
        return None
    render = child.to_representation
    Manager = models.manager.BaseManager
    listed_name = LISTED_PREFIX + name

    def get(instance):
        values = instance.__dict__
        if listed_name in values:
            return values[listed_name]
        cache = values.get("_prefetched_objects_cache")
        if cache is not None and name in cache:
            return cache[name]
        return getattr(instance, name)

    def fmt(rows):
        return [render(row) for row in (rows.all() if isinstance(rows, Manager) else rows)]

    return get, fmt


def _compile_field(field, model):
    """``(getter, formatter)`` for ``field``, ``(None, formatter)`` for a method field, or ``None`` for DRF."""
    cls = type(field)
    if isinstance(field, serializers.SerializerMethodField):
        if cls.get_attribute is not drf_fields.Field.get_attribute or cls.to_representation is not (
            serializers.SerializerMethodField.to_representation
        ):
            return None
        return None, getattr(field.parent, field.method_name)
    if isinstance(field, serializers.ListSerializer):
        return _nested_list(field, model)
    if field.source == "*":
        return None
    if _same(cls, relations.PrimaryKeyRelatedField, "get_attribute", "to_representation", "use_pk_only_optimization"):
        if field.pk_field is not None or len(field.source_attrs) != 1:
            return None
        relation = _model_field(model, field.source_attrs[0]) if model is not None else None
        if relation is None or not relation.concrete or not (relation.many_to_one or relation.one_to_one):
            return None
        return attrgetter(relation.attname), _identity
    if _same(cls, relations.SlugRelatedField, "get_attribute", "to_representation"):
        if model is None:
            return None
        relation = _model_field(model, field.source_attrs[0]) if len(field.source_attrs) == 1 else None
        if relation is None or not relation.concrete or not (relation.many_to_one or relation.one_to_one):
            return None
        return attrgetter(field.source_attrs[0]), attrgetter(field.slug_field.replace("__", "."))
    if cls.get_attribute is not drf_fields.Field.get_attribute:
        return None
    getter = _plain_getter(model, field.source_attrs)
    if getter is None:
        return None
    formatter = None
    if _same(cls, drf_fields.ChoiceField, "to_representation"):
        formatter = _choice_formatter(field)
    elif _same(cls, drf_fields.CharField, "to_representation"):
        formatter = str
    elif _same(cls, drf_fields.IntegerField, "to_representation"):
        formatter = int
    elif _same(cls, drf_fields.BigIntegerField, "to_representation"):
        formatter = str if getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING) else int
    elif _same(cls, drf_fields.BooleanField, "to_representation"):
        formatter = _boolean_formatter(field)
    elif _same(cls, drf_fields.DecimalField, "to_representation", "quantize"):
        formatter = _decimal_formatter(field)
    elif _same(cls, drf_fields.DateTimeField, "to_representation", "enforce_timezone", "default_timezone"):
        formatter = _datetime_formatter(field)
    elif _same(cls, drf_fields.DateField, "to_representation"):
        formatter = _date_formatter(field)
    elif _same(cls, drf_fields.JSONField, "to_representation") and not field.binary:
        formatter = _identity
    if formatter is None:
        return None
    return getter, formatter


def _drf_value(field, instance, ret):
    """What DRF's ``Serializer.to_representation`` does for one field."""
    try:
        attribute = field.get_attribute(instance)
    except SkipField:
        return
    check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
    ret[field.field_name] = None if check_for_none is None else field.to_representation(attribute)


def compile_representation(serializer):
    """A function ``instance -> dict`` equal to DRF's ``Serializer.to_representation`` for ``serializer``."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    plan = []
    for field in serializer._readable_fields:
        compiled = _compile_field(field, model)
        if compiled is None:
            plan.append((field.field_name, None, None, field))
        else:
            plan.append((field.field_name, compiled[0], compiled[1], field))
    plan = tuple(plan)
    deferred = (_Defer, AttributeError, KeyError, ObjectDoesNotExist)

    def represent(instance):
        ret = {}
        for name, get, fmt, field in plan:
            if fmt is None:
                _drf_value(field, instance, ret)
                continue
            if get is None:
                ret[name] = fmt(instance)
                continue
            try:
                value = get(instance)
            except deferred:
                _drf_value(field, instance, ret)
                continue
            ret[name] = None if value is None else fmt(value)
        return ret

    represent.drf_fields = tuple(name for name, _, fmt, _ in plan if fmt is None)  # rendered by DRF itself
    return represent


class FastRepresentationMixin:
    # Serializer mixin: ``to_representation`` through fields compiled once per serializer instance. For lists,
    # DRF shares one child serializer between all rows, so the fields are compiled once per page. A serializer
    # that changes its output overrides ``to_representation`` and calls ``super()`` as usual.
    # (No docstring: the schema describes each serializer by the first docstring of its classes.)

    def to_representation(self, instance):
        represent = self.__dict__.get("_fast_represent")
        if represent is None:
            represent = self.__dict__["_fast_represent"] = compile_representation(self)
        return represent(instance)


def fetch_together(instances, paths) -> None:
    """Load the objects that ``paths`` (``"requested_by"``, ``"payout__paid_by"``: foreign keys to one model)
    point to from ``instances`` in one query, and cache them as ``select_related`` would have.

    For people and other small tables that a row refers to several times: one short query instead of a join
    per reference, each of which widens every row and slows the planning of every page.
    """
    holders = []
    for path in paths:
        *hops, last = path.split("__")
        for instance in instances:
            obj = instance
            for hop in hops:
                obj = getattr(obj, hop, None)  # a missing one-to-one raises an AttributeError subclass
                if obj is None:
                    break
            if obj is not None:
                holders.append((obj, obj._meta.get_field(last)))
    if not holders:
        return
    ids = {getattr(obj, field.attname) for obj, field in holders} - {None}
    found = holders[0][1].related_model._base_manager.in_bulk(ids) if ids else {}
    for obj, field in holders:
        value = getattr(obj, field.attname)
        field.set_cached_value(obj, None if value is None else found.get(value))


def load_listed(instances, loaders) -> None:
    """Run each of ``loaders`` (``instances -> None``) over the rows of a page (see ``list_loaders``)."""
    for load in loaders:
        load(instances)


class ListedPrefetchMixin:
    """A viewset whose ``list`` reads exactly what its serializer shows, in the cheapest way for a page.

    ``list_select_related`` replaces the queryset's joins (every joined table widens the row and slows the
    planning of every page); ``list_prefetch`` replaces its prefetches, many-valued relations read into plain
    lists (see ``listed``); ``list_fetch_together`` names foreign keys to one small table (people) read for the
    whole page by one query (see ``fetch_together``); ``list_only`` names the only columns a page reads;
    ``list_loaders`` fill a page's rows with what no join or prefetch gives cheaply (each a function of the
    page's rows, e.g. nested lists read as plain values into ``listed_<name>``). Other actions keep the queryset
    as it is: what they change, they read afresh.
    """

    list_select_related: tuple | None = None
    list_prefetch: tuple | None = None
    list_fetch_together: tuple = ()
    list_only: tuple | None = None
    list_loaders: tuple = ()

    def renders_pages(self) -> bool:
        renderer = getattr(getattr(self, "request", None), "accepted_renderer", None)
        return getattr(renderer, "format", None) in PAGE_FORMATS

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None and self.action == "list" and self.renders_pages():
            if self.list_fetch_together:
                fetch_together(page, self.list_fetch_together)
            if self.list_loaders:
                load_listed(page, self.list_loaders)
        return page

    def get_queryset(self):
        return self.for_list(super().get_queryset())

    def for_list(self, queryset):
        """``queryset`` as a page of the list reads it; unchanged for other actions and for file exports, which
        read it row by row with the queryset's own joins."""
        if getattr(self, "action", None) != "list" or not self.renders_pages():
            return queryset
        if self.list_select_related is not None:
            queryset = queryset.select_related(None).select_related(*self.list_select_related)
        if self.list_prefetch is not None:
            queryset = queryset.prefetch_related(None).prefetch_related(*self.list_prefetch)
        if self.list_only is not None:
            queryset = queryset.only(*self.list_only)
        return queryset
