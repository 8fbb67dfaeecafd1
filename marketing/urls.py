from django.urls import path

from crm.lists import ListView
from marketing import views
from marketing.lists import CampaignList

app_name = "marketing"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("campaigns/", ListView.as_view(page=CampaignList), name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/bulk/", ListView.as_view(page=CampaignList, bulk=True), name="campaign_bulk"),
    path("campaigns/autocomplete/", views.campaign_autocomplete, name="campaign_autocomplete"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:pk>/delete/", views.campaign_delete, name="campaign_delete"),
    path("campaigns/<int:pk>/costs/", views.cost_add, name="cost_add"),
    path("campaigns/<int:pk>/costs/<int:cost_pk>/remove/", views.cost_remove, name="cost_remove"),
    path("campaigns/<int:pk>/members/", views.member_add, name="member_add"),
    path("campaigns/<int:pk>/members/<int:member_pk>/status/", views.member_status, name="member_status"),
    path("campaigns/<int:pk>/members/<int:member_pk>/remove/", views.member_remove, name="member_remove"),
    path("leads/<int:lead_pk>/campaign/", views.lead_attribution, name="lead_attribution"),
    path("deals/<int:deal_pk>/campaign/", views.deal_attribution, name="deal_attribution"),
]
