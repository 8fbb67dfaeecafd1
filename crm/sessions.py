"""Sessions read from Redis and written through to PostgreSQL (settings.SESSION_ENGINE).

Django's cached_db store, made to work without Redis: when the cache fails (crm/cache_guard.py),
sessions are read, created and ended in PostgreSQL alone, the way they were before they were cached.
Ending every session of a user (crm.models.UserSession.end_all_for) does not go through here: it
refuses to run while the cached copies cannot be deleted, since a copy left behind would keep a
signed-out device signed in once Redis answers again."""

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore

from crm import cache_guard

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self):
        if not cache_guard.available():
            return DBStore.load(self)
        try:
            data = self._cache.get(self.cache_key)
        except cache_guard.ERRORS as error:
            cache_guard.failed(error)
            return DBStore.load(self)
        if data is not None:
            return data
        session = self._get_session_from_db()
        if not session:
            return {}
        data = self.decode(session.session_data)
        self._cache_set(data, self.get_expiry_age(expiry=session.expire_date))
        return data

    def exists(self, session_key):
        if session_key and cache_guard.available():
            try:
                if (self.cache_key_prefix + session_key) in self._cache:
                    return True
            except cache_guard.ERRORS as error:
                cache_guard.failed(error)
        return DBStore.exists(self, session_key)

    def save(self, must_create=False):
        DBStore.save(self, must_create)
        self._cache_set(self._session, self.get_expiry_age())

    def delete(self, session_key=None):
        key = session_key or self.session_key
        DBStore.delete(self, session_key)
        if key is None:
            return
        try:
            self._cache.delete(self.cache_key_prefix + key)
        except cache_guard.ERRORS as error:
            # The row is gone and the browser drops its cookie; the cached copy expires with the idle time.
            cache_guard.failed(error)
            logger.warning("session ended in PostgreSQL only: Redis did not answer")

    def _cache_set(self, data, timeout) -> None:
        if not cache_guard.available():
            return
        try:
            self._cache.set(self.cache_key, data, timeout)
        except cache_guard.ERRORS as error:
            cache_guard.failed(error)
