"""The report pages' drill-down rule, checked the same way everywhere: every figure links to a list that
shows exactly the records it counts (the list accepts every filter of the link and holds that many rows)."""

import re
from collections.abc import Iterable
from html import unescape

LINK = re.compile(r'href="([^"]+)" data-count="(\d+)"')


def figure_links(html: str, pattern: re.Pattern = LINK) -> list[tuple[str, int]]:
    """The (url, count) of every figure link in `html` (a pattern with two groups: the href and the count)."""
    return [(unescape(url), int(count)) for url, count in pattern.findall(html)]


def listed_total(client, url: str) -> int:
    """How many rows the linked list says it holds."""
    listed = client.get(url)
    assert listed.status_code == 200, url
    assert not listed.context["filter"].form.errors, url  # a refused filter would list more than the figure
    return listed.context["page"].total


def assert_lists_match(client, links: Iterable[tuple[str, int]]) -> None:
    """Each link's list holds exactly the number of records its figure shows."""
    for url, count in links:
        assert listed_total(client, url) == count, url
