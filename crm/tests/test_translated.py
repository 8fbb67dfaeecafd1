"""Names an admin types (stages, pipelines, territories, custom fields) shown in each reader's language."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from accounts.tests.factories import AccountFactory
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.models import CustomField, Territory
from crm.translated import in_language
from imports import services as import_services
from imports.models import ImportJob, ImportStatus
from sales.models import Pipeline, Stage
from sales.tests.factories import OpportunityFactory, PipelineFactory, stage

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def segment():
    return CustomField.objects.create(
        target="contacts.contact", key="segment", label="Segment", kind="choice", choices="Retail\nWholesale",
        translations={"ru": "Сегмент", "uk": "Сегмент клієнта"},
        choice_translations={"ru": ["Розница", "Опт"], "uk": ["Роздріб"]})


def russian(user):
    user.language = "ru"
    user.save(update_fields=["language"])
    return user


def test_a_name_falls_back_to_the_typed_one():
    names = {"ru": "Переговоры", "uk": "  "}
    assert in_language("Negotiation", names, "ru") == "Переговоры"
    assert in_language("Negotiation", names, "uk") == "Negotiation"  # blank is no translation
    assert in_language("Negotiation", names, "en") == "Negotiation"
    assert in_language("Negotiation", None, "ru") == "Negotiation"
    territory = Territory(name="Москва", translations={"en": "Moscow"})
    with translation.override("en"):
        assert str(territory) == "Moscow"
    with translation.override("ru"):
        assert str(territory) == "Москва"


def test_the_board_and_the_deal_speak_the_readers_language(client, owner, team):
    pipeline = PipelineFactory(name="New business")
    Pipeline.objects.filter(pk=pipeline.pk).update(translations={"ru": "Новые продажи"})
    Stage.objects.filter(pipeline=pipeline, name="Negotiation").update(translations={"ru": "Переговоры",
                                                                                     "uk": "Переговори"})
    deal = OpportunityFactory(owner=owner, team=team, pipeline=pipeline, stage=stage(pipeline, "Negotiation"),
                              name="Поставка серверов")
    client.force_login(owner)
    english = client.get(reverse("sales:board", args=[pipeline.pk])).content.decode()
    assert "Negotiation" in english and "Переговоры" not in english

    client.force_login(russian(owner))
    board = client.get(reverse("sales:board", args=[pipeline.pk])).content.decode()
    assert "Переговоры" in board and "Новые продажи" in board and ">Negotiation<" not in board
    page = client.get(deal.get_absolute_url()).content.decode()
    assert 'id="current-stage">Переговоры<' in page
    listing = client.get(reverse("sales:opportunity_list")).content.decode()
    assert "Переговоры" in listing


def test_the_admin_names_a_stage_per_language_on_the_pipeline_page(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("sales:pipeline_create")).content.decode()
    assert "Name in Russian" in page and 'value="Квалификация"' in page  # starter stages come translated
    data = {"name": "Renewals", "name_ru": "Продления", "position": 1, "active": "on",
            "stages-TOTAL_FORMS": 3, "stages-INITIAL_FORMS": 0, "stages-MIN_NUM_FORMS": 0,
            "stages-MAX_NUM_FORMS": 1000}
    for index, (name, kind, ru) in enumerate([("Up for renewal", "open", "Подходит продление"),
                                              ("Renewed", "won", "Продлено"), ("Churned", "lost", "")]):
        data.update({f"stages-{index}-name": name, f"stages-{index}-position": index, f"stages-{index}-kind": kind,
                     f"stages-{index}-probability": 50, f"stages-{index}-active": "on",
                     f"stages-{index}-name_ru": ru})
    assert client.post(reverse("sales:pipeline_create"), data).status_code == 302
    pipeline = Pipeline.objects.get(name="Renewals")
    assert pipeline.translations == {"ru": "Продления"}
    names = dict(pipeline.stages.values_list("name", "translations"))
    assert names == {"Up for renewal": {"ru": "Подходит продление"}, "Renewed": {"ru": "Продлено"}, "Churned": {}}


def test_a_custom_field_shows_its_label_and_options_per_language_and_stores_the_typed_option(
        client, owner, segment):
    contact = ContactFactory(owner=owner, custom={"segment": "Wholesale"})
    client.force_login(russian(owner))
    form = client.get(reverse("contacts:edit", args=[contact.pk])).content.decode()
    assert "Сегмент" in form and '<option value="Wholesale" selected>Опт</option>' in form
    detail = client.get(contact.get_absolute_url()).content.decode()
    assert "Сегмент" in detail and "Опт" in detail and "Wholesale" not in detail
    client.post(reverse("contacts:edit", args=[contact.pk]), {
        "first_name": contact.first_name, "last_name": contact.last_name, "cf_segment": "Retail"})
    contact.refresh_from_db()
    assert contact.custom == {"segment": "Retail"}  # filters, segments and exports keep matching
    listing = client.get(reverse("contacts:list"), {"cf_segment": "Retail"}).content.decode()
    assert contact.last_name in listing and "Розница" in listing

    owner.language = "uk"
    owner.save(update_fields=["language"])
    detail = client.get(contact.get_absolute_url()).content.decode()
    assert "Сегмент клієнта" in detail and "Роздріб" in detail
    contact.custom = {"segment": "Wholesale"}
    contact.save()
    assert "Wholesale" in client.get(contact.get_absolute_url()).content.decode()  # no Ukrainian name: as typed


def test_an_import_matches_an_option_by_any_of_its_names(owner, segment, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=";").writerows([["Фамилия", "Имя", "segment"], ["Петров", "Иван", "Опт"],
                                                 ["Сидорова", "Анна", "Retail"], ["Ким", "Олег", "Оптом"]])
    job = import_services.job_create(user=owner, target="contacts.contact",
                                     upload=SimpleUploadedFile("people.csv", buffer.getvalue().encode("cp1251")))
    import_services.job_start(job=job)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    import_services.job_run(job_id=job.pk)
    job.refresh_from_db()
    stored = dict(Contact.objects.values_list("last_name", "custom__segment"))
    assert stored == {"Петров": "Wholesale", "Сидорова": "Retail"}
    assert (job.created, job.failed) == (2, 1)


def test_the_admin_gives_option_names_one_per_option(client, admin_user, segment):
    client.force_login(admin_user)
    data = {"target": "contacts.contact", "label": "Segment", "label_ru": "Сегмент", "key": "segment",
            "kind": "choice", "choices": "Retail\nWholesale", "choices_ru": "Розница\nОпт\nЛишнее", "position": 0,
            "active": "on"}
    response = client.post(reverse("custom_field_edit", args=[segment.pk]), data)
    assert "There are 3 names for 2 options" in response.content.decode()
    segment.refresh_from_db()
    assert segment.choice_translations["ru"] == ["Розница", "Опт"]  # unchanged

    data["choices_ru"] = "\nОптовики\n"
    client.post(reverse("custom_field_edit", args=[segment.pk]), data)
    segment.refresh_from_db()
    assert segment.choice_translations == {"ru": ["", "Оптовики"]}  # uk was not posted: cleared
    assert segment.translations == {"ru": "Сегмент"}
    with translation.override("ru"):
        assert segment.shown_choices == [("Retail", "Retail"), ("Wholesale", "Оптовики")]


def test_reports_group_by_the_readers_stage_and_territory_names(client, executive):
    pipeline = PipelineFactory()
    Stage.objects.filter(pipeline=pipeline, name="Proposal").update(translations={"ru": "Предложение"})
    moscow = Territory.objects.create(name="Moscow", translations={"ru": "Москва"})
    account = AccountFactory(owner=executive, territory=moscow)
    OpportunityFactory(owner=executive, account=account, pipeline=pipeline, stage=stage(pipeline, "Proposal"),
                       name="Серверы")
    OpportunityFactory(owner=executive, account=account, pipeline=pipeline, stage=stage(pipeline, "Negotiation"),
                       name="Склад")
    client.force_login(russian(executive))
    grouped = client.get(reverse("report_builder") + "?entity=deals&g1=stage&g2=account.territory").content.decode()
    assert "Предложение" in grouped and "Москва" in grouped
    filtered = client.get(reverse("report_builder") + "?entity=deals&c=name&c=stage"
                          "&ff=stage&fo=eq&fv=Предложение").content.decode()
    assert "Серверы" in filtered and "Склад" not in filtered
