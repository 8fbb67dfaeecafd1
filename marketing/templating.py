"""E-mail templates: HTML sanitised with an allow-list, merge fields filled in a sandbox, a plain-text part.

- **Sanitising** (`clean_html`): nh3 (Ammonia) with the allow-list of crm/richtext.py plus what e-mail
  needs (images over https, `style`-free layout tags). Forms store the cleaned HTML and `render_html`
  cleans again after the merge fields are filled, so neither an older row nor a value that looks like
  markup ever reaches a mailbox unsanitised.
- **The sandbox**: a template reaches only the names in `FIELDS`. Each is a function of the recipient
  row (the contact, its account, its owner) computed here; no template language runs and no attribute
  of a model object is looked up by a name the template chose. `{name}` with a known name is replaced,
  anything else stays as typed (the forms reject unknown names with the list of valid ones).
- **Escaping**: in the HTML part every value is HTML-escaped (a contact named `<script>` is text); in
  the subject and the plain-text part values go in as they are (they are not HTML).
- **Plain text from HTML** (`html_to_text`): paragraphs and line breaks kept, list items as "- ", links
  as "text (url)".
"""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import nh3
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from crm import richtext

TAGS = richtext.TAGS | {"img", "div", "span", "center"}
ATTRIBUTES = {**richtext.ATTRIBUTES, "img": {"src", "alt", "width", "height"}, "td": {"colspan", "rowspan", "align"},
              "p": {"align"}, "div": {"align"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
NAME = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,40})\}")


def _first(values: Any) -> str:
    return str(values[0]) if values else ""


def _person(user: Any) -> str:
    return (user.get_full_name() or user.email) if user is not None else ""


@dataclass(frozen=True)
class Field:
    label: Any
    value: Callable[[Any], str]
    is_link: bool = False


# name → (label, value of the recipient). `contact.account` and `contact.owner` are the only relations reached.
FIELDS: dict[str, Field] = {
    "first_name": Field(_("First name"), lambda c: c.first_name),
    "last_name": Field(_("Last name"), lambda c: c.last_name),
    "full_name": Field(_("Full name"), lambda c: c.full_name or str(c)),
    "title": Field(_("Job title"), lambda c: c.title),
    "email": Field(_("E-mail"), lambda c: _first(c.emails)),
    "phone": Field(_("Phone"), lambda c: _first(c.phones)),
    "city": Field(_("City"), lambda c: c.city),
    "company": Field(_("Company name"), lambda c: c.account.name if c.account_id and c.account else ""),
    "company_city": Field(_("Company city"), lambda c: c.account.city if c.account_id and c.account else ""),
    "company_industry": Field(_("Company industry"),
                              lambda c: c.account.industry if c.account_id and c.account else ""),
    "owner_name": Field(_("Owner's name"), lambda c: _person(c.owner) if c.owner_id else ""),
    "owner_email": Field(_("Owner's e-mail"), lambda c: c.owner.email if c.owner_id else ""),
    "owner_phone": Field(_("Owner's phone"), lambda c: c.owner.phone if c.owner_id else ""),
    "unsubscribe_url": Field(_("Unsubscribe link"), lambda c: "", is_link=True),
    "preferences_url": Field(_("Preference page link"), lambda c: "", is_link=True),
}
LINK_FIELDS = {name for name, spec in FIELDS.items() if spec.is_link}
RELATED = ("account", "owner")  # select_related for a row the sandbox reads


@dataclass
class Recipient:
    """The values one message is filled with: computed once from the contact, nothing else is reachable."""

    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, contact: Any, *, needed: set[str] | None = None, unsubscribe_url: str = "",
           preferences_url: str = "") -> "Recipient":
        """The values of the fields `needed` (by default all): a template that names no owner field
        reads no owner."""
        names = FIELDS.keys() if needed is None else needed & FIELDS.keys()
        values = {name: str(FIELDS[name].value(contact) or "") for name in names if not FIELDS[name].is_link}
        values.update(unsubscribe_url=unsubscribe_url, preferences_url=preferences_url)
        return cls(values)


def names_in(*texts: str) -> set[str]:
    """The merge fields the texts use."""
    return {name for text in texts for name in NAME.findall(text or "") if name in FIELDS}


def unknown_fields(*texts: str) -> list[str]:
    """The `{names}` in the texts that are not merge fields, in order of appearance, each once."""
    found: list[str] = []
    for text in texts:
        for name in NAME.findall(text or ""):
            if name not in FIELDS and name not in found:
                found.append(name)
    return found


def field_names() -> str:
    return ", ".join("{" + name + "}" for name in FIELDS)


def _fill(text: str, values: dict[str, str], convert: Callable[[str], str]) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        return convert(values[name]) if name in FIELDS and name in values else match.group(0)

    return NAME.sub(replace, text or "")


def render_text(text: str, recipient: Recipient) -> str:
    """Subject or plain text: values as they are."""
    return _fill(text, recipient.values, str)


def clean_html(text: str) -> str:
    """The HTML with only the allowed tags and attributes; links to http(s), mailto, tel only."""
    return nh3.clean(text or "", tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)


def render_html(text: str, recipient: Recipient, href: Callable[[str], str] | None = None) -> str:
    """The template cleaned, `href` applied to its own http(s) links (click tracking: before merging, so a
    value can never become a tracked target), the fields filled HTML-escaped, and cleaned again."""
    cleaned = clean_html(text)
    if href is not None:
        cleaned = _rewrite_links(cleaned, href)
    return clean_html(_fill(cleaned, recipient.values, escape))


_HREF = re.compile(r'(<a\b[^>]*?\bhref=")(https?://[^"]+)(")', re.IGNORECASE)


def _rewrite_links(cleaned: str, href: Callable[[str], str]) -> str:
    """nh3 writes every attribute double-quoted and escaped, so a link of cleaned HTML matches _HREF."""
    def replace(match: re.Match) -> str:
        target = html.unescape(match.group(2))
        if "{" in target:  # a link with a merge field is per recipient: not a fixed target, not tracked
            return match.group(0)
        return match.group(1) + escape(href(target)) + match.group(3)

    return _HREF.sub(replace, cleaned)


def links_of(text: str) -> list[str]:
    """The http(s) targets of the template's own links (cleaned first, as they are sent)."""
    return [html.unescape(match.group(2)) for match in _HREF.finditer(clean_html(text))]


class _Text(HTMLParser):
    BLOCK = {"p", "div", "h2", "h3", "h4", "blockquote", "pre", "table", "ul", "ol", "center", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[tuple[str, int]] = []  # (href, where its text starts in out)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCK or tag == "tr":
            self.out.append("\n\n" if tag in self.BLOCK else "\n")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in {"td", "th"}:
            self.out.append(" ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCK:
            self.out.append("\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            target = href[7:] if href.startswith("mailto:") else href
            if href and target != label:
                self.out.append(f" ({target})" if label else target)

    def handle_data(self, data: str) -> None:
        self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(text: str) -> str:
    """The plain-text part: the words of the (cleaned) HTML, paragraphs kept, links as "text (url)"."""
    parser = _Text()
    parser.feed(clean_html(text))
    parser.close()
    lines = [line.strip() for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
