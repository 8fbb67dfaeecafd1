"""sqlmap in the suite (issue 14, "The attack matrix, in CI").

A live server on 127.0.0.1, a signed-in rep (the session cookie passed to sqlmap) and an API token:
sqlmap (PyPI, pinned in requirements.txt) tries the contact list's search, sort and filter parameters
and the contacts API's search, ordering and filters, at level 1 and risk 1 against PostgreSQL, bounded
in time. It must find no injection, and the server must never answer 500 to its payloads.
"""

import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

from contacts.tests.factories import ContactFactory
from crm.tests.api_helpers import api_for

pytestmark = [pytest.mark.sqlmap, pytest.mark.django_db(transaction=True)]

SQLMAP = Path(sys.executable).with_name("sqlmap")
RUN_LIMIT_SECONDS = 300  # the whole sqlmap run; it normally takes well under a minute


def run_sqlmap(url: str, parameters: str, workdir: Path, *, cookie: str = "", header: str = "") -> dict:
    """Runs sqlmap on `url` (127.0.0.1 only) and returns what it found, requests made and 500s seen."""
    assert urlsplit(url).hostname == "127.0.0.1", "sqlmap is only ever pointed at this machine"
    traffic = workdir / "traffic.txt"
    command = [
        str(SQLMAP), "-u", url, "-p", parameters,
        "--batch", "--level", "1", "--risk", "1", "--dbms", "PostgreSQL",
        "--time-sec", "1", "--timeout", "10", "--retries", "0", "--threads", "1",
        "--skip-waf", "--flush-session", "--disable-coloring", "--answers", "follow=N",
        "--output-dir", str(workdir / "out"), "-t", str(traffic),
    ]
    if cookie:
        command += ["--cookie", cookie]
    if header:
        command += ["--headers", header]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=RUN_LIMIT_SECONDS, check=False,
                               stdin=subprocess.DEVNULL)
    output = completed.stdout + completed.stderr
    requests = len(re.findall(r"^HTTP request \[#\d+\]", traffic.read_text(errors="replace"), re.M)) \
        if traffic.exists() else 0
    server_errors = re.search(r"500 \(Internal Server Error\) - (\d+) times", output)
    return {
        "output": output,
        "returncode": completed.returncode,
        "requests": requests,
        "seconds": time.perf_counter() - started,
        "injectable": "identified the following injection point" in output
                      or bool(re.search(r"parameter '[^']+' (is|seems to be) .*injectable", output)),
        "server_errors": int(server_errors.group(1)) if server_errors else 0,
        "tested": re.findall(r"testing for SQL injection on (?:GET|POST) parameter '([^']+)'", output),
    }


def assert_clean(result: dict, expected_parameters: set[str]):
    tail = result["output"][-3000:]
    assert result["returncode"] == 0, f"sqlmap failed to run:\n{tail}"
    assert not result["injectable"], f"sqlmap found an injection:\n{tail}"
    assert result["server_errors"] == 0, f"sqlmap's payloads made the server answer 500:\n{tail}"
    assert expected_parameters <= set(result["tested"]), f"sqlmap did not test every parameter:\n{tail}"
    assert "all tested parameters do not appear to be injectable" in result["output"], tail
    assert result["requests"] > 50, f"sqlmap made only {result['requests']} requests:\n{tail}"
    # Signed in: a lost session would answer every payload with the sign-in redirect, and test nothing.
    assert "redirect" not in result["output"].lower(), f"sqlmap was redirected (not signed in?):\n{tail}"


def test_sqlmap_finds_no_injection_in_the_contact_list_and_the_api(live_server, owner, tmp_path):
    ContactFactory(owner=owner, last_name="Smith", tags=["vip"])  # the list has a row to compare answers with
    client = Client()
    client.force_login(owner)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    base = live_server.url.replace("localhost", "127.0.0.1")

    page = run_sqlmap(f"{base}/contacts/?q=smith&sort=name&tag=vip&lead_source=web&mine=true",
                      "q,sort,tag,lead_source,mine", tmp_path / "list", cookie=cookie)
    assert_clean(page, {"q", "sort", "tag", "lead_source", "mine"})

    api = api_for(owner)
    endpoint = run_sqlmap(f"{base}/api/contacts/?q=smith&ordering=last_name&tag=vip",
                          "q,ordering,tag", tmp_path / "api", header=f"Authorization: Token {api.key}")
    assert_clean(endpoint, {"q", "ordering", "tag"})
    print(f"\n[sqlmap] contact list: {page['requests']} requests in {page['seconds']:.1f}s; "
          f"API: {endpoint['requests']} requests in {endpoint['seconds']:.1f}s")
