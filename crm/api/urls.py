"""/api/: every module's routes (registered in its own `api.py`, see crm/api/routes.py), the
OpenAPI schema and the interactive docs."""

from django.urls import path, re_path

from crm.api import routes, views

app_name = "api"

routes.autodiscover()
router = routes.build_router()

urlpatterns = [
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.DocsView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    re_path(r"^", views.not_found),
]
