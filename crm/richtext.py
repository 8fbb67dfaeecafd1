"""Rich text: the one place where text a user typed is shown as HTML.

Knowledge-base articles accept basic formatting (headings, lists, emphasis, links, quotes, code,
tables). `clean` runs the HTML through nh3 (the Ammonia sanitiser) with the allow-list below: any
other tag is dropped with its text kept, any attribute not listed is dropped, links may only point
to http(s), mailto or tel and are opened without the referrer, and script, style and iframe content
is removed whole. Forms store the cleaned HTML, and `render` cleans again when showing it, so a row
written some other way (the API, an import, an older version) is never trusted.

Everything else users type (notes, replies, names) is plain text and escaped by the templates.
"""

import html
import re

import nh3
from django.template.defaultfilters import linebreaks_filter, urlize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "b", "em", "i", "u", "s", "sub", "sup", "mark", "small",
    "ul", "ol", "li", "blockquote", "pre", "code", "kbd", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ATTRIBUTES = {
    "a": {"href", "title"}, "th": {"scope", "colspan", "rowspan"}, "td": {"colspan", "rowspan"}, "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_TAG = re.compile(r"<[a-zA-Z/!]")


def has_markup(text: str) -> bool:
    return bool(_TAG.search(text or ""))


def clean(text: str) -> str:
    """The text with only allowed tags and attributes left; plain text passes through unchanged
    apart from escaping the characters HTML reserves."""
    return nh3.clean(text or "", tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


def render(text: str) -> SafeString:
    """HTML for a page: cleaned markup, or plain text with paragraphs and clickable links."""
    if has_markup(text):
        return mark_safe(clean(text))  # noqa: S308  # nosec B308 B703: nh3 with the allow-list above
    return linebreaks_filter(urlize(escape(text or ""), autoescape=True), autoescape=True)


def plain(text: str) -> str:
    """The words without the markup, for a plain-text e-mail, a reply box or a snippet."""
    if not has_markup(text):
        return text or ""
    spaced = re.sub(r"(?i)<br\s*/?>|</(p|h[2-4]|li|tr|blockquote|pre)>", "\n", text)
    return html.unescape(nh3.clean(spaced, tags=set(), strip_comments=True)).strip()
