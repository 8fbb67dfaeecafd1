"""PDF documents (quotes, invoices) rendered with WeasyPrint.

The layout is a Django template: the built-in one under templates/sales/pdf/, or the source an
admin saved in CompanyProfile. Rendering never reaches the network: WeasyPrint fetches only
files under MEDIA_ROOT (the company logo) and refuses every other URL.
"""

from pathlib import Path

from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.loader import get_template
from weasyprint import HTML, URLFetcher


class LocalFilesOnly(URLFetcher):
    """Lets a document load files under MEDIA_ROOT (the logo) and nothing else: no network."""

    def __init__(self):
        super().__init__(allowed_protocols={"file"})

    def fetch(self, url, headers=None):
        path = Path(url.removeprefix("file://").split("?")[0]).resolve()
        if not path.is_relative_to(Path(settings.MEDIA_ROOT).resolve()):
            raise ValueError(f"PDF rendering does not fetch {url!r}")
        return super().fetch(url, headers)


def check_template_source(source: str) -> None:
    """Raises TemplateSyntaxError for a template an admin typed that would not render."""
    Engine.get_default().from_string(source)


def render_html(*, builtin: str, source: str, context: dict) -> str:
    """The document's HTML: from the admin's template when there is one, else the built-in one."""
    if source.strip():
        try:
            return Template(source).render(Context(context, autoescape=True))
        except TemplateSyntaxError:
            pass  # a broken custom template must not stop invoicing: fall back to the built-in one
    return get_template(builtin).render(context)


def render_pdf(*, builtin: str, source: str = "", context: dict) -> bytes:
    html = render_html(builtin=builtin, source=source, context=context)
    return HTML(string=html, base_url=f"file://{Path(settings.MEDIA_ROOT).resolve()}/",
                url_fetcher=LocalFilesOnly()).write_pdf()
