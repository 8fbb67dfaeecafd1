"""Sales URLs. Each area keeps its views and URLs in its own modules: views.py (pipelines,
opportunities, the board), product_views, quote_views, billing_views (orders, invoices,
payments, receivables), forecast_views (targets, forecast) and lead_views (leads)."""

from django.urls import include, path

from crm.lists import ListView
from sales import billing_urls, forecast_urls, lead_urls, product_urls, quote_urls, views
from sales.lists import OpportunityList

app_name = "sales"

urlpatterns = [
    path("", views.section_sales, name="overview"),
    path("opportunities/", ListView.as_view(page=OpportunityList), name="opportunity_list"),
    path("opportunities/new/", views.opportunity_create, name="opportunity_create"),
    path("opportunities/bulk/", ListView.as_view(page=OpportunityList, bulk=True), name="opportunity_bulk"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/delete/", views.opportunity_delete, name="opportunity_delete"),
    path("opportunities/<int:pk>/stage/", views.opportunity_stage, name="opportunity_stage"),
    path("opportunities/<int:pk>/contacts/", views.contact_role_add, name="contact_role_add"),
    path("quotes/<int:quote_pk>/win-deal/", views.opportunity_win_from_quote, name="opportunity_win_from_quote"),
    path("opportunities/<int:pk>/contacts/<int:role_pk>/remove/", views.contact_role_remove,
         name="contact_role_remove"),
    path("board/", views.board, name="board_default"),
    path("board/<int:pk>/", views.board, name="board"),
    path("board/<int:pk>/column/<int:stage_pk>/", views.board_column, name="board_column"),
    path("board/move/", views.board_move, name="board_move"),
    path("pipelines/", views.pipeline_list, name="pipeline_list"),
    path("pipelines/new/", views.pipeline_edit, name="pipeline_create"),
    path("pipelines/<int:pk>/", views.pipeline_edit, name="pipeline_edit"),
    path("", include(product_urls.urlpatterns)),
    path("", include(quote_urls.urlpatterns)),
    path("", include(billing_urls.urlpatterns)),
    path("", include(forecast_urls.urlpatterns)),
    path("", include(lead_urls.urlpatterns)),
]
