"""Help articles in the portal: only published public articles of the knowledge base, found by words."""

import pytest
from django.urls import reverse

from crm.models import Role
from crm.tests.factories import UserFactory
from portal.tests.factories import PORTAL_PASSWORD
from service import kb_services
from service.models import Article, ArticleAudience, ArticleStatus


@pytest.fixture
def library(db):
    author = UserFactory(email="kb-lead@example.com", role=Role.SUPPORT_LEAD)
    public = {"status": ArticleStatus.PUBLISHED, "audience": ArticleAudience.PUBLIC}
    return {
        "public": kb_services.article_create(actor=author, title="Принтер печатает пустые страницы",
                                             body="Замените картридж с тонером.", **public),
        "internal": kb_services.article_create(actor=author, title="Принтер: внутренняя инструкция по сбросу",
                                               body="Пароль сервисного меню 1234.", status=ArticleStatus.PUBLISHED,
                                               audience=ArticleAudience.INTERNAL),
        "draft": kb_services.article_create(actor=author, title="Принтер в новом офисе", body="Черновик",
                                            audience=ArticleAudience.PUBLIC),
    }


@pytest.fixture
def portal(client, customer):
    client.post(reverse("portal:login"), {"email": customer.email, "password": PORTAL_PASSWORD})
    return client


def test_customers_find_public_articles_only(portal, library):
    page = portal.get(reverse("portal:help") + "?q=принтеры").content.decode()
    assert "Принтер печатает пустые страницы" in page
    assert "внутренняя инструкция" not in page and "в новом офисе" not in page
    page = portal.get(reverse("portal:help")).content.decode()
    assert "Принтер печатает пустые страницы" in page and "внутренняя" not in page and "в новом офисе" not in page


def test_an_internal_or_draft_article_by_id_answers_like_a_missing_one(portal, library):
    missing = portal.get(reverse("portal:help_article", args=[999_999]))
    for key in ("internal", "draft"):
        response = portal.get(reverse("portal:help_article", args=[library[key].pk]))
        assert response.status_code == 404 and library[key].title not in response.content.decode()
    assert missing.status_code == 404
    response = portal.get(reverse("portal:help_article", args=[library["public"].pk]))
    assert response.status_code == 200 and "Замените картридж" in response.content.decode()
    assert Article.objects.get(pk=library["public"].pk).views == 1


def test_help_needs_a_portal_sign_in(client, library):
    response = client.get(reverse("portal:help_article", args=[library["public"].pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("portal:login"))


def test_the_help_pages_cost_constant_queries(portal, library, django_assert_max_num_queries):
    author = library["public"].author
    for n in range(20):
        kb_services.article_create(actor=author, title=f"Принтер, совет {n}", body="Текст",
                                   status=ArticleStatus.PUBLISHED, audience=ArticleAudience.PUBLIC)
    with django_assert_max_num_queries(5):
        assert portal.get(reverse("portal:help") + "?q=принтер").status_code == 200
    with django_assert_max_num_queries(5):
        assert portal.get(reverse("portal:help")).status_code == 200
