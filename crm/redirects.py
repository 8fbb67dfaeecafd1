"""The one check for a `next=` address a form or link carries: only a path on this site is
followed, never another host (an open redirect would let a phishing link borrow our name)."""

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, fallback: str, *, within: str = "") -> str:
    """`next` from the form or the query string when it points at this site (and, with `within`,
    under that path), else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and target.startswith(within) and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
