"""`OwnFormFields`: a filter set whose form uses the fields its filters made, without a second copy.

django-filter copies the class's filters for each filter set (`copy.deepcopy(base_filters)`), each
copy makes its own form field, and the form class is built anew from those fields for that filter
set alone (`get_form_class`). Django's `Form.__init__` then deep-copies every field once more (the
widget, its attributes, every choice): on the account list's 22-field panel that second copy was a
visible part of each request (docs/benchmarks.md, issue 16) and protects nothing, since no other
form shares these fields. crm/tests/test_lists.py checks that two filter sets never share a field."""

from __future__ import annotations


class _OwnFields(dict):
    """A form class's `base_fields` whose fields belong to one filter set: the form takes them as
    they are (a new dict, the same field objects) instead of deep-copying them."""

    def __deepcopy__(self, memo):
        return dict(self)


class OwnFormFields:
    """Mix into a django_filters.FilterSet (before it) whose form is built per filter set."""

    def get_form_class(self):
        form_class = super().get_form_class()  # type: ignore[misc]
        form_class.base_fields = _OwnFields(form_class.base_fields)
        return form_class
