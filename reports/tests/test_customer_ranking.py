"""The customer ranking (reports/ranking.py): ABC and RFM classes against an independent computation on
generated purchases, the monthly movement, the scheduler's claim, and where the classes are used (the
account list's filters, marketing's segment criteria, the account page)."""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, AccountEvent, RfmClass
from accounts.tests.factories import AccountFactory
from contacts.tests.factories import ContactFactory
from crm import scheduler
from marketing.segments import contacts_in
from reports import ranking
from reports.models import CustomerRanking
from reports.tests.data import at, deal
from sales.models import CurrencyRate, Order, OrderStatus
from sales.tests.factories import PipelineFactory

RATES = {"RUB": Decimal("0.0105"), "UAH": Decimal("0.022")}


@pytest.fixture
def rates(db):
    return {currency: CurrencyRate.objects.create(currency=currency, rate=rate) for currency, rate in RATES.items()}


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="Продажи")


def order(account, total, currency="EUR", *, on, status=OrderStatus.CONFIRMED, opportunity=None):
    return Order.objects.create(owner=account.owner, team=account.team, account=account, total=Decimal(total),
                                currency=currency, ordered_on=on, status=status, opportunity=opportunity,
                                number=f"O-{Order.objects.count() + 1:05d}")


def generate(pipeline, people, today, seed=7, accounts=30):
    """Accounts with won and lost deals and direct orders over two years, in three currencies."""
    generator = random.Random(seed)
    made = []
    for number in range(accounts):
        owner = generator.choice(people)
        account = AccountFactory(owner=owner, team=owner.team, name=f"ООО «Клиент {number}»")
        made.append(account)
        for _purchase in range(generator.randrange(0, 6)):
            day = today - datetime.timedelta(days=generator.randrange(0, 700))
            currency = generator.choice(["EUR", "RUB", "UAH"])
            amount = f"{generator.randrange(100, 90000)}.{generator.randrange(100):02d}"
            kind = generator.choice(["won", "lost", "order", "cancelled"])
            if kind in ("won", "lost"):
                deal(pipeline, owner, "Won" if kind == "won" else "Lost", amount, currency, account=account,
                     closed_at=at(day, generator.randrange(24)))
            else:
                order(account, amount, currency, on=day,
                      status=OrderStatus.CANCELLED if kind == "cancelled" else OrderStatus.DELIVERED)
    return made


def independent(today):
    """The purchases and ABC classes computed separately: plain SQL for the purchases, a Python walk for ABC."""
    start = ranking.window_start(today)
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT account_id, day, amount, currency FROM (
                SELECT o.account_id, (o.closed_at AT TIME ZONE %s)::date AS day, o.amount, o.currency
                FROM sales_opportunity o JOIN sales_stage s ON s.id = o.stage_id
                WHERE s.kind = 'won' AND o.deleted_at IS NULL
                UNION ALL
                SELECT account_id, ordered_on, total, currency FROM sales_order
                WHERE status <> 'cancelled' AND opportunity_id IS NULL AND deleted_at IS NULL) AS purchase
        """, [str(timezone.get_default_timezone())])
        rows = cursor.fetchall()
    found: dict[int, dict] = {}
    for account_id, day, amount, currency in rows:
        entry = found.setdefault(account_id, {"last": day, "count": 0, "revenue": Decimal(0)})
        entry["last"] = max(entry["last"], day)
        if start <= day <= today:
            entry["count"] += 1
            entry["revenue"] += amount * RATES.get(currency, Decimal(1))
    for entry in found.values():
        entry["revenue"] = entry["revenue"].quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    total = sum(entry["revenue"] for entry in found.values())
    running, classes = Decimal(0), {}
    for account_id, entry in sorted(found.items(), key=lambda item: (-item[1]["revenue"], item[0])):
        if entry["revenue"] <= 0:
            continue
        classes[account_id] = "A" if running < total * Decimal("0.8") else "B" if running < total * Decimal(
            "0.95") else "C"
        running += entry["revenue"]
    return found, classes


@pytest.mark.django_db
def test_stored_classes_match_an_independent_computation(rates, pipeline, owner, teammate):
    today = timezone.localdate()
    accounts = generate(pipeline, [owner, teammate], today)
    assert ranking.ranking_refresh() > 0
    found, classes = independent(today)
    assert set(classes.values()) == {"A", "B", "C"}
    for account in Account.objects.filter(pk__in=[a.pk for a in accounts]):
        entry = found.get(account.pk)
        assert account.abc_class == classes.get(account.pk, ""), account.name
        if entry is None:
            assert (account.rfm_class, account.purchases_12m, account.last_purchase_on) == ("", 0, None)
            continue
        assert account.last_purchase_on == entry["last"]
        assert account.purchases_12m == entry["count"]
        assert account.revenue_12m == entry["revenue"]
        assert account.rfm_class in RfmClass.values and len(account.rfm_score) == 3


@pytest.mark.django_db
def test_a_is_the_top_eighty_percent_of_revenue(owner):
    # 50 + 30 = 80: the second account reaches 80% and is still A (the one that crosses it is A too).
    classes = ranking.abc_classes({1: Decimal(50), 2: Decimal(30), 3: Decimal(10), 4: Decimal(6), 5: Decimal(4),
                                   6: Decimal(0)})
    assert classes == {1: "A", 2: "A", 3: "B", 4: "B", 5: "C"}


def test_scores_share_a_score_on_ties_and_spread_one_to_five():
    assert set(ranking.scores({pk: 7 for pk in range(10)}).values()) == {3}
    spread = ranking.scores({pk: pk for pk in range(10)})
    assert spread[0] == 1 and spread[9] == 5 and sorted(spread.values()) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


@pytest.mark.django_db
def test_rfm_classes_of_typical_customers(rates, pipeline, owner):
    today = timezone.localdate()
    days = datetime.timedelta

    def buying(name, *purchases):
        account = AccountFactory(owner=owner, name=name)
        for ago, amount in purchases:
            order(account, amount, on=today - days(days=ago))
        return account

    champion = buying("Чемпион", *[(ago, 9000) for ago in (3, 100, 150, 200, 250)])
    newcomer = buying("Новичок", (5, 500))
    gone = buying("Ушедший", (600, 300))
    sleeping_big = buying("Крупный спящий", *[(ago, 9000) for ago in (300, 320, 340, 360)])
    fillers = [buying(f"Клиент {n}", (120 + n * 10, 1000), (200 + n, 800)) for n in range(6)]
    ranking.ranking_refresh()
    classes = dict(Account.objects.filter(pk__in=[a.pk for a in (champion, newcomer, gone, sleeping_big, *fillers)])
                   .values_list("name", "rfm_class"))
    assert classes["Чемпион"] == RfmClass.CHAMPIONS
    assert classes["Новичок"] == RfmClass.NEW
    assert classes["Ушедший"] == RfmClass.LOST
    assert classes["Крупный спящий"] == RfmClass.AT_RISK


@pytest.mark.django_db
def test_an_order_from_a_won_deal_is_one_purchase_and_deleted_records_count_nothing(rates, pipeline, owner):
    account = AccountFactory(owner=owner)
    won = deal(pipeline, owner, "Won", "1000", account=account, closed_at=timezone.now())
    order(account, "1000", on=timezone.localdate(), opportunity=won)
    gone = deal(pipeline, owner, "Won", "5000", account=account, closed_at=timezone.now())
    type(gone).objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    ranking.ranking_refresh()
    account.refresh_from_db()
    assert (account.purchases_12m, account.revenue_12m) == (1, Decimal("1000.00"))


@pytest.mark.django_db
def test_movement_keeps_last_months_class_once_per_month(rates, owner):
    first, second = AccountFactory(owner=owner), AccountFactory(owner=owner)
    now = timezone.now()
    order(first, "9000", on=timezone.localdate() - datetime.timedelta(days=1))
    ranking.ranking_refresh(now=now)
    order(second, "90000", on=timezone.localdate() - datetime.timedelta(days=1))
    ranking.ranking_refresh(now=now + datetime.timedelta(hours=1))  # same month: nothing is kept as "previous"
    first.refresh_from_db()
    assert (first.abc_class, first.abc_previous) == ("B", "")
    next_month = now + datetime.timedelta(days=32)
    ranking.ranking_refresh(now=next_month)
    ranking.ranking_refresh(now=next_month + datetime.timedelta(hours=1))  # the second run must not shift again
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.abc_previous, second.abc_previous) == ("B", "A")
    assert CustomerRanking.objects.get().month == timezone.localdate(next_month).replace(day=1)


@pytest.mark.django_db
def test_the_refresh_writes_no_history_and_clears_accounts_that_stopped_buying(rates, owner):
    account = AccountFactory(owner=owner)
    placed = order(account, "100", on=timezone.localdate())
    events = AccountEvent.objects.count()
    ranking.ranking_refresh()
    account.refresh_from_db()
    assert account.abc_class == "A"
    placed.status = OrderStatus.CANCELLED
    placed.save(update_fields=["status"])
    ranking.ranking_refresh()
    account.refresh_from_db()
    assert (account.abc_class, account.rfm_class, account.purchases_12m, account.last_purchase_on) == ("", "", 0, None)
    assert AccountEvent.objects.count() == events  # the nightly rewrite is not a change anyone made


# --- The scheduler ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_tick_refreshes_once_a_night(rates, owner):
    order(AccountFactory(owner=owner), "100", on=timezone.localdate())
    now = timezone.now()
    assert scheduler.tick(now=now)["customer_ranking"] == 1
    assert scheduler.tick(now=now + datetime.timedelta(minutes=1))["customer_ranking"] == 0
    state = CustomerRanking.objects.get()
    assert state.refreshed_at == now and state.accounts_ranked == 1 and state.claimed_at is None
    local = timezone.localtime(state.next_run_at, timezone.get_default_timezone())
    assert local.time() == ranking.REFRESH_AT and now < state.next_run_at <= now + datetime.timedelta(days=1)
    assert scheduler.tick(now=state.next_run_at)["customer_ranking"] == 1


@pytest.mark.django_db
def test_two_ticks_reading_the_same_state_claim_it_once(owner):
    now = timezone.now()
    state = CustomerRanking.objects.create(pk=1, next_run_at=now)
    same_read = CustomerRanking.objects.get(pk=1)
    assert ranking.claim(state, now) is True
    assert ranking.claim(same_read, now) is False  # the second tick read the row before the first claimed it
    fresh = CustomerRanking.objects.get(pk=1)
    assert ranking.claim(fresh, now + datetime.timedelta(minutes=1)) is False  # claimed, not stale yet
    assert ranking.claim(fresh, now + scheduler.STALE_CLAIM + datetime.timedelta(minutes=1)) is True  # dead worker


@pytest.mark.django_db
def test_a_failed_refresh_retries_with_back_off(owner, monkeypatch):
    now = timezone.now()

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ranking, "ranking_refresh", broken)
    assert ranking.refresh_due_ranking(now) == 0
    state = CustomerRanking.objects.get()
    assert state.claimed_at is None and state.attempts == 1 and "database went away" in state.last_error
    assert state.next_run_at == now + datetime.timedelta(minutes=2)


# --- Where the classes are used -------------------------------------------------------------------------


@pytest.fixture
def ranked(rates, owner, outsider):
    mine_a = AccountFactory(owner=owner, name="Альфа")
    mine_c = AccountFactory(owner=owner, name="Гамма")
    theirs_a = AccountFactory(owner=outsider, name="Чужая")
    today = timezone.localdate()
    order(mine_a, "90000", on=today)
    order(mine_c, "100", on=today)
    order(theirs_a, "90000", on=today)
    ranking.ranking_refresh()
    return mine_a, mine_c, theirs_a


@pytest.mark.django_db
def test_the_account_list_filters_by_class_within_visibility(client, owner, ranked):
    mine_a, mine_c, theirs_a = ranked
    client.force_login(owner)
    page = client.get(reverse("accounts:list"), {"abc_class": "A"}).content.decode()
    assert "Альфа" in page and "Гамма" not in page and "Чужая" not in page
    unranked = client.get(reverse("accounts:list"), {"abc_class": "none"}).content.decode()
    assert "Альфа" not in unranked
    assert client.get(reverse("accounts:list"), {"abc_class": "Z"}).status_code == 200  # refused, not an error


@pytest.mark.django_db
def test_segments_select_contacts_by_class(owner, ranked):
    mine_a, mine_c, _theirs = ranked
    top = ContactFactory(owner=owner, account=mine_a)
    ContactFactory(owner=owner, account=mine_c)
    assert list(contacts_in({"abc_classes": ["A"]}, owner)) == [top]
    assert contacts_in({"rfm_classes": [RfmClass.NEW]}, owner).count() == 2


@pytest.mark.django_db
def test_the_account_page_shows_the_classes(client, owner, ranked):
    client.force_login(owner)
    page = client.get(ranked[0].get_absolute_url()).content.decode()
    assert 'id="account-ranking"' in page and "?abc_class=A" in page and "?rfm_class=new" in page


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_refreshes_keep_last_months_class_once(owner, monkeypatch):
    """A run taken over from a worker thought dead overlaps the first: the state row's lock makes the second wait
    and find the month already moved, so it does not copy the new classes over last month's."""
    import threading
    import time

    from django.db import connection as main_connection

    first, second = AccountFactory(owner=owner), AccountFactory(owner=owner)
    order(first, "9000", on=timezone.localdate() - datetime.timedelta(days=40))
    ranking.ranking_refresh(now=timezone.now() - datetime.timedelta(days=35))  # last month: first is A
    order(second, "90000", on=timezone.localdate())  # this month second is A, first B
    slow_rank = ranking.rank

    def rank(*args):
        time.sleep(0.5)  # both runs are inside the refresh at once
        return slow_rank(*args)

    monkeypatch.setattr(ranking, "rank", rank)
    errors = []

    def run():
        try:
            ranking.ranking_refresh()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=run) for _number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    main_connection.close()
    assert errors == []
    first.refresh_from_db()
    assert (first.abc_class, first.abc_previous) == ("B", "A")
