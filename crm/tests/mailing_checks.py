"""The chaos tests' verdict on a mailing (marketing/tests/test_worker_killed.py, test_redis_restarted.py). Apart
from crm/tests/celery_helpers.py, which the machinery's worker tests import: those must not reach marketing."""

from collections import Counter

from marketing import mailings
from marketing.models import Delivery, DeliveryStatus


def assert_mailing_sent_once_each(mailing, lines: list[str], *, people: int, in_flight: list[int], connections: int):
    """What a mailing must look like after its worker or broker died under it: nobody got two messages, every
    recipient is accounted for, nothing is left pending or sending, `unknown` holds no more than the rows in
    flight at the failures (`in_flight`: how many each time; at most one batch per SMTP connection), and the
    server's lines agree with the rows (every "sent" arrived; whatever arrived was sent or unknown)."""
    per_address = Counter(line.split(" ", 1)[0] for line in lines)
    assert max(per_address.values()) == 1, per_address.most_common(3)  # nobody got two messages
    figures = mailings.counts(mailing)
    assert figures.recipients == people and figures.pending == 0 and figures.sending == 0
    assert figures.sent + figures.unknown + figures.suppressed + figures.failed + figures.pending == figures.recipients
    assert all(0 <= rows <= mailings.BATCH * connections for rows in in_flight)
    assert figures.unknown <= sum(in_flight)
    deliveries = Delivery.objects.filter(mailing=mailing)
    sent = set(deliveries.filter(status=DeliveryStatus.SENT).values_list("email", flat=True))
    unknown = set(deliveries.filter(status=DeliveryStatus.UNKNOWN).values_list("email", flat=True))
    assert sent <= set(per_address) <= sent | unknown
    assert figures.failed == 0 and figures.sent >= people - sum(in_flight)
    return figures
