from django.urls import path

from crm.lists import ListView
from service import contract_views, field_views, kb_views, setup_views, views
from service.lists import ArticleList, ContractList, TicketList, WorkOrderList

app_name = "service"

urlpatterns = [
    path("", views.desk_home, name="home"),
    path("take-next/", views.take_next, name="take_next"),
    path("hotline/", views.hotline, name="hotline"),
    path("hotline/ticket/", views.hotline_ticket, name="hotline_ticket"),
    path("hotline/call/", views.hotline_call, name="hotline_call"),
    path("tickets/", ListView.as_view(page=TicketList), name="ticket_list"),
    path("tickets/bulk/", ListView.as_view(page=TicketList, bulk=True), name="ticket_bulk"),
    path("tickets/new/", views.ticket_create, name="ticket_create"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:pk>/edit/", views.ticket_edit, name="ticket_edit"),
    path("tickets/<int:pk>/reply/", views.ticket_reply, name="ticket_reply"),
    path("tickets/<int:pk>/status/", views.ticket_status, name="ticket_status"),
    path("tickets/<int:pk>/assign/", views.ticket_assign, name="ticket_assign"),
    path("tickets/<int:pk>/delete/", views.ticket_delete, name="ticket_delete"),
    path("tickets/<int:pk>/canned/", views.canned_fill, name="canned_fill"),
    path("tickets/<int:pk>/files/<int:attachment_pk>/", views.attachment_download, name="attachment"),
    path("tickets/<int:pk>/articles/", kb_views.article_insert, name="article_insert"),
    path("kb/", ListView.as_view(page=ArticleList), name="article_list"),
    path("kb/new/", kb_views.article_create, name="article_create"),
    path("kb/<int:pk>/", kb_views.article_detail, name="article_detail"),
    path("kb/<int:pk>/edit/", kb_views.article_edit, name="article_edit"),
    path("kb/<int:pk>/vote/", kb_views.article_vote, name="article_vote"),
    path("tickets/<int:pk>/work/", contract_views.work_log_add, name="work_log_add"),
    path("tickets/<int:pk>/work-order/", field_views.work_order_create, name="work_order_create"),
    path("work-orders/", ListView.as_view(page=WorkOrderList), name="work_order_list"),
    path("work-orders/<int:pk>/", field_views.work_order_detail, name="work_order_detail"),
    path("work-orders/<int:pk>/dispatch/", field_views.work_order_dispatch, name="work_order_dispatch"),
    path("work-orders/<int:pk>/log/", field_views.work_order_log, name="work_order_log"),
    path("work-orders/<int:pk>/bill/", field_views.work_order_bill, name="work_order_bill"),
    path("work-orders/<int:pk>/<slug:action>/", field_views.work_order_action, name="work_order_action"),
    path("my-day/", field_views.my_day, name="my_day"),
    path("contracts/", ListView.as_view(page=ContractList), name="contract_list"),
    path("contracts/new/", contract_views.contract_create, name="contract_create"),
    path("contracts/<int:pk>/", contract_views.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", contract_views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/renew/", contract_views.contract_renew, name="contract_renew"),
    path("mailbox/", views.inbound_log, name="inbound_log"),
    path("setup/mailboxes/<int:pk>/check/", setup_views.mailbox_check, name="mailbox_check"),
    path("setup/mailboxes/<int:pk>/read/", setup_views.mailbox_read, name="mailbox_read"),
    path("setup/<slug:kind>/", setup_views.setup_list, name="setup"),
    path("setup/<slug:kind>/new/", setup_views.setup_edit, name="setup_new"),
    path("setup/<slug:kind>/<int:pk>/", setup_views.setup_edit, name="setup_edit"),
]
