"""Lighthouse 12 over the main pages of a running CRM, signed in (not part of `make test`).

    make lighthouse LIGHTHOUSE_ARGS="http://127.0.0.1:8000 manager@demo.crm"
    .venv/bin/python tools/lighthouse.py http://127.0.0.1:8000 manager@demo.crm --form-factor mobile

Run it against the product as `make run` serves it (gunicorn, DEBUG off: compressed static files
with hashed names), with the demo data loaded. It signs in with Playwright (the demo password),
hands the session cookie to Lighthouse, audits My day, the account list, an account page, the board,
the opportunity list, an opportunity and the forecast, and prints one line per page with the
performance, accessibility and best-practices scores; the JSON reports go to var/lighthouse/.
Lighthouse itself is installed on first use into var/lighthouse/ (pinned below), not with the
project's front-end libraries. Chromium: CHROME_PATH, /usr/bin/chromium by default.
"""

import argparse
import json
import os
import re
import subprocess  # nosec B404 - runs npm and Lighthouse, fixed arguments
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / "var" / "lighthouse"
VERSION = "12.8.2"
BINARY = HOME / "node_modules" / ".bin" / "lighthouse"
PASSWORD = "demo-crm-2026"  # noqa: S105  # nosec B105 - the published demo password (README)
CATEGORIES = ("performance", "accessibility", "best-practices")


def install() -> None:
    if BINARY.exists():
        return
    HOME.mkdir(parents=True, exist_ok=True)
    (HOME / "package.json").write_text('{"private": true}\n')
    npm = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", f"lighthouse@{VERSION}"]
    subprocess.run(npm, cwd=HOME, check=True)  # noqa: S603 S607  # nosec B603 B607


def sign_in(base: str, email: str) -> tuple[str, dict[str, str]]:
    """The session cookie header, and the pages to audit (the record pages are the user's biggest open deal
    and its account)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=os.environ.get("CHROME_PATH", "/usr/bin/chromium"),
                                             args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base}/auth/login/")
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"^(?!.*/auth/login/).*$"))
        page.goto(f"{base}/sales/opportunities/?status=open&sort=-amount")
        deal = page.locator("a[href^='/sales/opportunities/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
            ".filter(h => /^\\/sales\\/opportunities\\/\\d+\\/$/.test(h))")[0]
        page.goto(base + deal)
        account = page.locator("a[href^='/accounts/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href')).filter(h => /^\\/accounts\\/\\d+\\/$/.test(h))")[0]
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
        browser.close()
    pages = {"my-day": "/", "account-list": "/accounts/", "account": account, "board": "/sales/board/",
             "opportunity-list": "/sales/opportunities/", "opportunity": deal, "forecast": "/sales/forecast/"}
    return cookies, pages


def audit(base: str, cookies: str, name: str, path: str, form_factor: str) -> dict[str, int]:
    report = HOME / f"{name}-{form_factor}.json"
    command = [str(BINARY), base + path, "--quiet", "--output=json", f"--output-path={report}",
               f"--only-categories={','.join(CATEGORIES)}", "--chrome-flags=--headless=new --no-sandbox",
               "--extra-headers", json.dumps({"Cookie": cookies})]
    if form_factor == "desktop":
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run(command, check=True, env=env)  # noqa: S603  # nosec B603
    data = json.loads(report.read_text())
    if data.get("finalDisplayedUrl", "").rstrip("/").endswith("/auth/login"):
        raise SystemExit(f"{name}: Lighthouse was sent to the sign-in page (the cookie was not accepted)")
    return {key: round(100 * (data["categories"][key]["score"] or 0)) for key in CATEGORIES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base", help="the running CRM, e.g. http://127.0.0.1:8000")
    parser.add_argument("email", nargs="?", default="manager@demo.crm")
    parser.add_argument("--form-factor", choices=("mobile", "desktop", "both"), default="both")
    parser.add_argument("--page", action="append", help="only these pages (by name; repeatable)")
    args = parser.parse_args()
    base = args.base.rstrip("/")
    install()
    cookies, pages = sign_in(base, args.email)
    factors = ("mobile", "desktop") if args.form_factor == "both" else (args.form_factor,)
    print(f"{'page':<18} {'form factor':<12} " + " ".join(f"{key:>15}" for key in CATEGORIES))
    for form_factor in factors:
        for name, path in pages.items():
            if args.page and name not in args.page:
                continue
            scores = audit(base, cookies, name, path, form_factor)
            print(f"{name:<18} {form_factor:<12} " + " ".join(f"{scores[key]:>15}" for key in CATEGORIES), flush=True)


if __name__ == "__main__":
    sys.exit(main())
