"""The core's plug-in registries: record-page panels, hooks, hand-over kinds."""

import pytest
from django.test import RequestFactory

from crm import handover, hooks, panels
from crm.models import Team


@pytest.fixture
def clean_panels(monkeypatch):
    monkeypatch.setattr(panels, "_PANELS", panels.defaultdict(list))


def test_panels_render_by_slot_in_order_and_skip_the_empty_ones(clean_panels, db, rf: RequestFactory, owner):
    @panels.register("crm.team", slot=panels.MAIN, order=20)
    def second(request, record, page):
        return panels.Rendered("components/pagination.html", {})

    @panels.register("crm.team", slot=panels.MAIN, order=10)
    def first(request, record, page):
        page["seen"] = True  # panels share what the page read
        return panels.Rendered("components/pagination.html", {})

    @panels.register("crm.team", slot=panels.SIDE)
    def nothing_to_show(request, record, page):
        return None

    request = rf.get("/")
    request.user = owner
    shared = {}
    rendered = panels.render(request, Team(name="North"), shared)
    assert len(rendered[panels.MAIN]) == 2 and rendered[panels.SIDE] == [] and shared["seen"]
    assert [p.function for p in panels.registered("crm.team")] == [first, second, nothing_to_show]


def test_the_probes_of_a_page_are_asked_in_one_query(clean_panels, db, rf: RequestFactory, owner, outsider,
                                                     django_assert_num_queries):
    """Every probe of the page in one statement; a probe two panels share asked once; a list of querysets counts
    when any has a row; a probe that answers None leaves its panel to run as without probes."""
    from crm.models import User

    team = Team.objects.create(name="Север")
    asked = []

    def teammates(request, record):
        asked.append("teammates")
        return User.objects.filter(team=record)

    def nobody(request, record):
        return [User.objects.filter(pk=-1), User.objects.filter(team=record, pk=-1)]

    def someone_of_many(request, record):
        return [User.objects.filter(pk=-1), User.objects.filter(pk=owner.pk)]

    def no_answer(request, record):
        return None

    seen = {}

    @panels.register("crm.team", slot=panels.MAIN, order=10, probe=teammates)
    def people(request, record, page):
        seen["people"] = panels.has_rows(page, teammates)

    @panels.register("crm.team", slot=panels.SIDE, order=20, probe=(teammates, nobody, someone_of_many, no_answer))
    def figures(request, record, page):
        seen.update(shared=panels.has_rows(page, teammates), nobody=panels.has_rows(page, nobody),
                    some=panels.has_rows(page, someone_of_many), unknown=panels.has_rows(page, no_answer))

    request = rf.get("/")
    request.user = owner
    with django_assert_num_queries(1):
        panels.render(request, team)
    assert asked == ["teammates"]
    assert seen == {"people": False, "shared": False, "nobody": False, "some": True, "unknown": True}
    outsider.team = team
    outsider.save(update_fields=["team"])
    with django_assert_num_queries(1):
        panels.render(request, team)
    assert seen["people"] is True and seen["shared"] is True


def test_registering_a_panel_twice_keeps_one(clean_panels):
    def panel(request, record, page):
        return None

    panels.register("crm.team")(panel)
    panels.register("crm.team")(panel)
    assert len(panels.registered("crm.team")) == 1


def test_an_unknown_slot_or_hook_fails_loudly():
    with pytest.raises(ValueError, match="slot"):
        panels.register("crm.team", slot="footer")
    with pytest.raises(ValueError, match="Unknown hook"):
        hooks.publish("lead.convertd")
    with pytest.raises(ValueError, match="Unknown hook"):
        hooks.subscribe("no.such.hook")


def test_hooks_run_every_subscriber_once_and_collect_their_answers(monkeypatch):
    monkeypatch.setattr(hooks, "_SUBSCRIBERS", hooks.defaultdict(list))
    calls = []

    def first(**kwargs):
        calls.append(("first", kwargs["contact"]))
        return {"a": 1}

    def second(**kwargs):
        return {"b": 2}

    hooks.subscribe(hooks.CONTACT_PERSONAL_DATA)(first)
    hooks.subscribe(hooks.CONTACT_PERSONAL_DATA)(first)  # a re-import does not double it
    hooks.subscribe(hooks.CONTACT_PERSONAL_DATA)(second)
    assert hooks.collect(hooks.CONTACT_PERSONAL_DATA, contact="c") == [{"a": 1}, {"b": 2}]
    assert calls == [("first", "c")]


def test_every_module_registers_what_a_hand_over_moves():
    assert [kind.key for kind in handover.kinds()] == ["accounts", "contacts", "opportunities", "quotes", "leads",
                                                       "tickets", "contracts", "work_orders", "activities"]
