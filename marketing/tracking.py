"""Open and click tracking, switched on or off per mailing (`Mailing.track`).

- **Clicks**: each http(s) link of the mailing's text (the template as written, before merge fields
  are filled, so nothing a contact typed into their name becomes a link) is replaced by
  `/marketing/t/c/<token>/`, the token signing (delivery id, target URL) with its own salt. The click
  page redirects only when the signature holds AND the target is a link the mailing's texts contain:
  a forged or altered token, or a validly signed one naming any other target, answers 404. It can
  never be used as an open redirect.
- **Opens**: a plain-text mailing gets an HTML alternative made from its text (escaped, links
  clickable) that carries a 1×1 GIF `/marketing/t/o/<token>.gif` (the delivery id signed).
- Each is counted once per recipient (the first time, a compare-and-set on `opened_at` /
  `clicked_at`); a click also counts as an open (images are often blocked) and makes the contact a
  "responded" member of the mailing's campaign (added if they were not a member; a converted member
  stays converted). Both pages are public (no sign-in) and change nothing for a forged token.
"""

import re
from dataclasses import dataclass

from django.core import signing
from django.db import connection, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from crm.signed import signed_id
from marketing.models import CampaignMember, Delivery, LinkClick, Mailing, MemberStatus

OPEN_SALT = "marketing.open"
CLICK_SALT = "marketing.click"
LINK = re.compile(r"https?://[^\s<>\"'`{}|\\^]+[^\s<>\"'`{}|\\^.,;:!?)\]]")
# 1×1 transparent GIF
PIXEL = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
         b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def links_in(text: str) -> list[str]:
    return LINK.findall(text)


def allowed_targets(mailing: Mailing) -> set[str]:
    """Every link of the mailing's texts and HTML, in every language: the only places a click may lead."""
    from marketing.mailings import htmls_of, texts_of
    from marketing.templating import links_of

    in_text = {link for subject, body in texts_of(mailing).values() for link in links_in(body)}
    return in_text | {link for html in htmls_of(mailing).values() for link in links_of(html)}


def click_url(base_url: str, delivery_id: int, target: str) -> str:
    token = signing.dumps([delivery_id, target], salt=CLICK_SALT, compress=True)
    return base_url + reverse("marketing:track_click", args=[token])


def open_url(base_url: str, delivery_id: int) -> str:
    return base_url + reverse("marketing:track_open", args=[signing.dumps(delivery_id, salt=OPEN_SALT)])


def with_tracked_links(text: str, base_url: str, delivery_id: int) -> str:
    return LINK.sub(lambda match: click_url(base_url, delivery_id, match.group(0)), text)


def html_version(text: str, pixel_url: str) -> str:
    """The text as HTML (escaped, line breaks kept, links clickable) with the open pixel at the end."""
    parts, last = [], 0
    for match in LINK.finditer(text):
        parts.append(escape(text[last:match.start()]))
        parts.append(f'<a href="{escape(match.group(0))}">{escape(match.group(0))}</a>')
        last = match.end()
    parts.append(escape(text[last:]))
    body = "".join(parts).replace("\n", "<br>\n")
    return (f'<!DOCTYPE html><html><body><div style="font-family:sans-serif">{body}</div>'
            f'<img src="{escape(pixel_url)}" width="1" height="1" alt=""></body></html>')


@dataclass(frozen=True)
class Click:
    delivery: Delivery
    target: str


@dataclass(frozen=True)
class LinkCount:
    url: str
    clicks: int


def link_counts(mailing: Mailing) -> list[LinkCount]:
    """Unique clicks per link of the mailing (one query, plus one for its texts): every link its texts
    contain, clicked or not, the most clicked first."""
    clicked = dict(LinkClick.objects.filter(mailing=mailing).order_by().values("url").annotate(
        clicks=Count("pk")).values_list("url", "clicks"))
    urls = allowed_targets(mailing) | set(clicked)
    return sorted((LinkCount(url, clicked.get(url, 0)) for url in urls), key=lambda link: (-link.clicks, link.url))


def click_for_token(token: str) -> Click | None:
    """The delivery and target a click link names; None when forged, altered, or the target is not a
    link of that mailing."""
    try:
        value = signing.loads(token, salt=CLICK_SALT)
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)):
        return None
    delivery = Delivery.objects.select_related("mailing").filter(pk=value[0]).first()
    if delivery is None or not delivery.mailing.track or value[1] not in allowed_targets(delivery.mailing):
        return None
    return Click(delivery, value[1])


def delivery_for_open(token: str) -> Delivery | None:
    delivery_id = signed_id(token, OPEN_SALT)
    if delivery_id is None:
        return None
    return Delivery.objects.select_related("mailing").filter(pk=delivery_id, mailing__track=True).first()


def record_open(delivery: Delivery) -> bool:
    return bool(Delivery.objects.filter(pk=delivery.pk, opened_at__isnull=True).update(opened_at=timezone.now()))


@transaction.atomic
def record_click(delivery: Delivery, target: str = "") -> bool:
    """The recipient's first click on `target` counts for that link; their first click at all is
    counted on the mailing, is an open too, and the contact has responded to the campaign. False when
    they had clicked already (the mailing's figures do not change)."""
    now = timezone.now()
    if target:
        LinkClick.objects.bulk_create([LinkClick(mailing_id=delivery.mailing_id, delivery=delivery, url=target,
                                                 clicked_at=now)], ignore_conflicts=True)
    first = Delivery.objects.filter(pk=delivery.pk, clicked_at__isnull=True).update(clicked_at=now)
    if not first:
        return False
    Delivery.objects.filter(pk=delivery.pk, opened_at__isnull=True).update(opened_at=now)
    table = CampaignMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (campaign_id, contact_id, status, added_at, status_changed_at)
                VALUES (%s, %s, %s, %s, %s)
                ON CONFLICT (campaign_id, contact_id) DO UPDATE SET status = EXCLUDED.status,
                    status_changed_at = EXCLUDED.status_changed_at
                WHERE {table}.status IN (%s, %s)""",  # noqa: S608 - our table name, values bound  # nosec B608
            [delivery.mailing.campaign_id, delivery.contact_id, MemberStatus.RESPONDED, now, now,
             MemberStatus.TARGETED, MemberStatus.SENT])
    return True
