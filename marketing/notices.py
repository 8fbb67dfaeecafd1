"""New-product notices: a product marked "new" (sales.Product.is_new) announced in one step to the
contacts subscribed to the topic of its family (Topic.product_family, compared without case).

`notice_create` makes a draft mailing with the topic as its audience (no segment or list: every contact
the marketer may see who subscribes to the topic; the usual suppression applies), a subject and an HTML
text made from the product in each language, and the product recorded on the mailing. The marketer
reads it on the mailing page, previews it, and sends it there.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from crm.models import User
from marketing import services
from marketing.models import Campaign, Mailing, Topic
from marketing.templating import html_to_text
from sales.models import Product


def topics_for(product: Product) -> QuerySet[Topic]:
    """The offered topics whose product family is the product's."""
    if not product.family.strip():
        return Topic.objects.none()
    return Topic.objects.filter(is_active=True, product_family__iexact=product.family.strip()).order_by("name", "id")


def notice_texts(product: Product, language: str) -> tuple[str, str]:
    """(subject, HTML) announcing the product, in `language`."""
    with translation.override(language):
        subject = _("New: %(name)s") % {"name": product.name}
        greeting = _("Hello {first_name},")
        intro = _("We have a new product for you:")
        price = _("Price")
        outro = _("Reply to this message and we will tell you more.")
    parts = [f"<p>{escape(greeting)}</p>", f"<p>{escape(intro)}</p>", f"<h2>{escape(product.name)}</h2>"]
    if product.description.strip():
        parts.append(linebreaks(escape(product.description)))
    if product.default_price:
        amount = f"{escape(product.default_price)} {escape(product.currency)}"
        parts.append(f"<p><strong>{escape(price)}:</strong> {amount}</p>")
    parts.append(f"<p>{escape(outro)}</p>")
    return subject[:200], "\n".join(parts)


@transaction.atomic
def notice_create(*, actor: User, product: Product, campaign: Campaign, topic: Topic) -> Mailing:
    """A draft mailing announcing the product to the topic's subscribers, in every language."""
    main = actor.language or settings.LANGUAGE_CODE
    subject, html = notice_texts(product, main)
    versions = {}
    for code, _name in settings.LANGUAGES:
        if code != main:
            version_subject, version_html = notice_texts(product, code)
            versions[code] = (version_subject, html_to_text(version_html), version_html)
    return services.mailing_create(actor=actor, campaign=campaign, subject=subject, body=html_to_text(html),
                                   html=html, topic=topic, language=main, versions=versions, product=product)
