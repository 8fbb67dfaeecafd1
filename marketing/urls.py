from django.urls import path

from crm.lists import ListView
from marketing import views
from marketing.lists import CampaignList, SegmentList, StaticListList

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
    path("segments/", ListView.as_view(page=SegmentList), name="segment_list"),
    path("segments/new/", views.segment_create, name="segment_create"),
    path("segments/preview/", views.segment_preview, name="segment_preview"),
    path("segments/<int:pk>/", views.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/edit/", views.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
    path("segments/<int:pk>/to-campaign/", views.segment_to_campaign, name="segment_to_campaign"),
    path("lists/", ListView.as_view(page=StaticListList), name="static_list_list"),
    path("lists/new/", views.static_list_create, name="static_list_create"),
    path("lists/<int:pk>/", views.static_list_detail, name="static_list_detail"),
    path("lists/<int:pk>/edit/", views.static_list_edit, name="static_list_edit"),
    path("lists/<int:pk>/delete/", views.static_list_delete, name="static_list_delete"),
    path("lists/<int:pk>/remove/", views.static_list_remove, name="static_list_remove"),
    path("campaigns/<int:campaign_pk>/mailings/new/", views.mailing_create, name="mailing_create"),
    path("mailings/<int:pk>/", views.mailing_detail, name="mailing_detail"),
    path("mailings/<int:pk>/send/", views.mailing_send, name="mailing_send"),
    path("mailings/<int:pk>/unschedule/", views.mailing_unschedule, name="mailing_unschedule"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    path("t/o/<str:token>/", views.track_open, name="track_open"),
    path("t/c/<str:token>/", views.track_click, name="track_click"),
    path("topics/", views.topic_list, name="topic_list"),
    path("web-forms/", views.webform_list, name="webform_list"),
    path("web-forms/new/", views.webform_edit, name="webform_create"),
    path("web-forms/<int:pk>/edit/", views.webform_edit, name="webform_edit"),
    path("f/<str:key>/", views.webform_public, name="webform_public"),
    path("topics/<int:pk>/edit/", views.topic_edit, name="topic_edit"),
]
