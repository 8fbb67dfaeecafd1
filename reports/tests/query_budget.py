"""The page query budget (≤ 15 per page, docs/testing.md), counted twice: with the shared cache warm, and right
after it lost its copies — the cached lookups (crm/lookups.py) live TIMEOUT seconds and the session's copy can
go too (Redis restarted), so a page must stay within the budget when it reads them all again."""

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import lookups
from crm.sessions import SessionStore

PAGE_BUDGET = 15


def drop_cached_copies(client) -> None:
    """Every cached lookup, and the cached copy of the client's session (the database keeps the session)."""
    lookups.forget()
    store = SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    caches[settings.SESSION_CACHE_ALIAS].delete(store.cache_key)


def queries_warm_and_cold(client, url: str) -> tuple[int, int]:
    """How many queries the page makes with the cache warm, then with it cold (`drop_cached_copies`)."""
    assert client.get(url).status_code == 200  # fills the caches
    with CaptureQueriesContext(connection) as warm:
        assert client.get(url).status_code == 200
    drop_cached_copies(client)
    with CaptureQueriesContext(connection) as cold:
        assert client.get(url).status_code == 200
    return len(warm), len(cold)
