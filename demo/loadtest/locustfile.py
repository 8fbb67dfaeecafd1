"""Locust users for `make loadtest` (demo/loadtest/run.py starts gunicorn and runs this twice: 50 users
thinking 1-3 s between pages, then a saturation run without think time). Usable on its own too:

    .venv/bin/locust -f demo/loadtest/locustfile.py --host http://127.0.0.1:8000

LOADTEST_THINK sets the think time ("1-3" seconds, "0" for none); LOADTEST_USERS a comma-separated
list of seeded e-mail addresses to sign in as (round robin); LOADTEST_SESSIONS a JSON file of their
session cookies (run.py signs each in once), else every Locust user signs in itself."""

import itertools
import json
import os
import random
from pathlib import Path

from locust import HttpUser, between, constant, task

from demo.loadtest import pages

_low, _, _high = os.environ.get("LOADTEST_THINK", "1-3").partition("-")
_emails = itertools.cycle(os.environ.get("LOADTEST_USERS", ",".join(pages.USERS)).split(","))
_sessions = json.loads(Path(os.environ["LOADTEST_SESSIONS"]).read_text()) if os.environ.get("LOADTEST_SESSIONS") else {}


class CrmUser(HttpUser):
    wait_time = between(float(_low), float(_high)) if _high else constant(float(_low))

    def on_start(self):
        self.rng = random.Random()  # noqa: S311 - which page to open next, not a secret
        email = next(_emails)
        if _sessions:  # signed in once by demo/loadtest/run.py: no password hashing during the run
            self.client.cookies.set("sessionid", _sessions[email])
        else:
            self.sign_in(email)
        accounts = self.client.get("/accounts/", name="/accounts/")
        contacts = self.client.get("/contacts/", name="/contacts/")
        self.known = pages.learn_ids(accounts.text, contacts.text)

    def sign_in(self, email: str) -> None:
        form = self.client.get(pages.LOGIN_URL, name="sign in (form)")
        response = self.client.post(pages.LOGIN_URL, name="sign in",
                                    data={"username": email, "password": pages.PASSWORD,
                                          "csrfmiddlewaretoken": pages.csrf_token(form.text)},
                                    headers={"Referer": self.host + pages.LOGIN_URL}, allow_redirects=False)
        if response.status_code != 302:
            raise RuntimeError(f"{email} could not sign in (HTTP {response.status_code}): run manage.py seed first")

    @task
    def open_a_page(self):
        name, url = pages.pick(self.rng, self.known)
        self.client.get(url, name=name)
