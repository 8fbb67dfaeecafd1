"""`pk_url("contacts:detail", pk)`: the same URL as `reverse(name, args=[pk])` for a pattern with
one integer argument, without walking the resolver each time. A list page links every row to its
record (and often to its account): a hundred `reverse` calls per page, now a string replacement.
The reversed pattern is kept per name and script prefix, and forgotten when ROOT_URLCONF changes
(tests). `plain_url(name)` does the same for a pattern without arguments."""

from functools import cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

_MARK = 918273645  # an id that no pattern contains literally


@cache
def _pattern(name: str, prefix: str, urlconf: str | None) -> tuple[str, str]:
    url = reverse(name, args=[_MARK], urlconf=urlconf)
    head, _mark, tail = url.partition(str(_MARK))
    return head, tail


def pk_url(name: str, pk: int) -> str:
    head, tail = _pattern(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"


@cache
def _plain(name: str, prefix: str, urlconf: str | None) -> str:
    return reverse(name, urlconf=urlconf)


def plain_url(name: str) -> str:
    """`reverse(name)` for a pattern without arguments (a list's own URL in each of its rows' badges)."""
    return _plain(name, get_script_prefix(), get_urlconf())


@receiver(setting_changed)
def _forget(setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _pattern.cache_clear()
        _plain.cache_clear()
