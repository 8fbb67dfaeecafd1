"""Takes the README's screenshots from a running demo (`DEBUG=1 make run`, or runserver after seed_demo):

    .venv/bin/python docs/screenshots/take_screenshots.py http://127.0.0.1:8000 manager@demo.crm

Each page at 1366 px (desktop) and 375 px (phone), full height, into docs/screenshots/<page>-<width>.png.
The record pages are the signed-in user's biggest open deal, its account and its quote."""

import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
PASSWORD = "demo-crm-2026"  # noqa: S105 - the published demo password (README)
WIDTHS = (1366, 375)


def main(base: str, email: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 800},
                                          device_scale_factor=1)
            page = context.new_page()
            page.goto(f"{base}/auth/login/")
            page.get_by_label("E-mail address").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state("networkidle")
            page.goto(f"{base}/sales/opportunities/?status=open&sort=-amount")
            deal = page.locator("a[href^='/sales/opportunities/']").filter(has_not_text="New").evaluate_all(
                "links => links.map(a => a.getAttribute('href')).filter(h => /\\/\\d+\\/$/.test(h))")[0]
            page.goto(base + deal)
            account = page.locator("a[href^='/accounts/']").evaluate_all(
                "links => links.map(a => a.getAttribute('href')).filter(h => /^\\/accounts\\/\\d+\\/$/.test(h))")[0]
            quote = page.locator("a[href^='/sales/quotes/']").evaluate_all(
                "links => links.map(a => a.getAttribute('href')).filter(h => /^\\/sales\\/quotes\\/\\d+\\/$/.test(h))")
            pages = {
                "my-day": "/", "account": account, "list": "/sales/opportunities/", "board": "/sales/board/",
                "opportunity": deal, "quote": quote[0] if quote else "/sales/quotes/",
                "calendar": "/calendar/?view=week", "forecast": "/sales/forecast/",
            }
            for name, url in pages.items():
                page.goto(base + url)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(HERE / f"{name}-{width}.png"), full_page=True)
                print(name, width, re.sub(r"\d+", "N", url))
            context.close()
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2] if len(sys.argv) > 2 else "manager@demo.crm")
