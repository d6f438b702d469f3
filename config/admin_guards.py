"""What every admin page of Turnout shares: only declared filters, and bad query
strings answered with a 400 page instead of a server error.

Django's admin accepts any lookup on a model's own fields in the query string
(``?body_text__regex=...``): a member of staff who may list rows could then test a
hidden column one character at a time. Here a list accepts only the parameters of
the filters it declares, its date hierarchy and Django's own (search, ordering,
page), whoever asks.
"""

from django.contrib.admin import FieldListFilter, SimpleListFilter
from django.db import models
from django.shortcuts import render

# What Django's field filters put in the query string, by the kind of field.
FIELD_FILTER_LOOKUPS = ("exact", "isnull")
RELATION_FILTER_LOOKUPS = ("id__exact", "isnull", "exact")
DATE_FILTER_LOOKUPS = ("gte", "lt", "isnull")
# A year past this (or before 1) is no date a person filters by, and larger ones
# overflow Python's datetime inside Django's date hierarchy.
MAX_YEAR = 9998


def _bad_request(request):
    return render(request, "400.html", status=400)


class GuardedAdminMixin:
    """Mix into every ModelAdmin: declared lookups only, and no 500 on bad input."""

    def declared_lookups(self, request) -> set[str]:
        """The query-string parameters this list's filters and date hierarchy use."""
        declared = set()
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                declared.add(item.parameter_name)
                continue
            path = item[0] if isinstance(item, (list, tuple)) else item
            if isinstance(item, type) and issubclass(item, FieldListFilter):
                continue  # a filter class without a field names no parameter
            field = _field_at(self.model, path)
            if field is not None and field.is_relation:
                lookups = RELATION_FILTER_LOOKUPS
            elif isinstance(field, models.DateField):
                lookups = DATE_FILTER_LOOKUPS
            else:
                lookups = FIELD_FILTER_LOOKUPS
            declared.update(f"{path}__{lookup}" for lookup in lookups)
        if self.date_hierarchy:
            declared.update(
                f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")
            )
        return declared

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in self.declared_lookups(request)

    def changelist_view(self, request, extra_context=None):
        if _has_nul(request.GET) or not self._date_hierarchy_ok(request.GET):
            return _bad_request(request)
        if request.method == "POST" and not _selection_ok(self.model, request.POST):
            return _bad_request(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if _empty_to_field(request):
            return _bad_request(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if _empty_to_field(request):
            return _bad_request(request)
        return super().delete_view(request, object_id, extra_context)

    def _date_hierarchy_ok(self, params) -> bool:
        if not self.date_hierarchy:
            return True
        limits = {"year": (1, MAX_YEAR), "month": (1, 12), "day": (1, 31)}
        for part, (low, high) in limits.items():
            for value in params.getlist(f"{self.date_hierarchy}__{part}"):
                if not (value.isascii() and value.isdigit()):
                    return False
                if not low <= int(value) <= high:
                    return False
        return True


def _field_at(model, path: str):
    """The field a filter's path names (across relations), or None."""
    field = None
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 -- FieldDoesNotExist and friends: no field
            return None
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return field


def _empty_to_field(request) -> bool:
    """Django checks a named _to_field, but looks up a field named "" for an empty
    one (FieldDoesNotExist, a 500)."""
    from django.contrib.admin.options import TO_FIELD_VAR

    params = request.POST if request.method == "POST" else request.GET
    return TO_FIELD_VAR in params and not params[TO_FIELD_VAR]


def _has_nul(params) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in params.getlist(key))
        for key in params
    )


def _selection_ok(model, data) -> bool:
    """Every selected row id of an action is a valid primary key value."""
    from django.contrib.admin import helpers

    field = model._meta.pk
    for value in data.getlist(helpers.ACTION_CHECKBOX_NAME):
        try:
            field.to_python(value)
        except Exception:  # noqa: BLE001 -- ValidationError, OverflowError
            return False
        if isinstance(field, models.AutoField | models.BigAutoField) and not (
            value.isascii() and value.isdigit() and int(value) < 2**63
        ):
            return False
    return not _has_nul(data)
