from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from crm import background_views, handover_views, lookup_views, security_views, token_views, views
from crm.metrics import metrics_view

auth_patterns = [
    path("login/", security_views.SignInView.as_view(), name="login"),
    path("login/code/", security_views.sign_in_code, name="sign_in_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", security_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", security_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        security_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invite/<uidb64>/<token>/", login_not_required(views.InviteAcceptView.as_view()), name="invite_accept"),
]

admin_tools = [
    path("users/", views.user_list, name="user_list"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/unlock/", security_views.user_unlock, name="user_unlock"),
    path("users/<int:pk>/two-factor-reset/", security_views.user_two_factor_reset, name="user_two_factor_reset"),
    path("security/", security_views.security_settings, name="security_settings"),
    path("security-log/", security_views.security_log, name="security_log"),
    path("background/", background_views.background_work, name="background_work"),
    path("background/<slug:source>/<int:pk>/retry/", background_views.background_retry, name="background_retry"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/<int:pk>/", views.team_list, name="team_edit"),
    path("territories/", views.territory_list, name="territory_list"),
    path("territories/<int:pk>/", views.territory_list, name="territory_edit"),
    path("custom-fields/", views.custom_field_list, name="custom_field_list"),
    path("custom-fields/<int:pk>/", views.custom_field_list, name="custom_field_edit"),
    path("outbox/", views.outbox, name="outbox"),
    path("tokens/", token_views.admin_token_list, name="admin_api_tokens"),
    path("tokens/<int:pk>/revoke/", token_views.admin_token_revoke, name="admin_api_token_revoke"),
    path("outbox/<str:name>/", views.outbox_message, name="outbox_message"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", login_not_required(metrics_view), name="metrics"),
    path("", include("reports.urls")),
    path("profile/", views.profile, name="profile"),
    path("profile/security/", security_views.profile_security, name="profile_security"),
    path("profile/security/two-factor/", security_views.two_factor_enrol, name="two_factor_enrol"),
    path("profile/security/two-factor/off/", security_views.two_factor_disable, name="two_factor_disable"),
    path("profile/security/recovery-codes/", security_views.recovery_codes_new, name="recovery_codes_new"),
    path("profile/security/sign-out-everywhere/", security_views.sign_out_everywhere, name="sign_out_everywhere"),
    path("profile/tokens/", token_views.token_list, name="api_tokens"),
    path("profile/tokens/<int:pk>/revoke/", token_views.token_revoke, name="api_token_revoke"),
    path("calendar/", include("activities.calendar_urls")),
    path("accounts/", include("accounts.urls")),
    path("api/", include("crm.api.urls")),
    # Leads moved from contacts to sales: old bookmarks still arrive.
    re_path(r"^contacts/leads/(?P<rest>.*)$", RedirectView.as_view(url="/sales/leads/%(rest)s", permanent=True,
                                                                 query_string=True)),
    path("contacts/", include("contacts.urls")),
    path("sales/", include("sales.urls")),
    path("service/", include("service.urls")),
    path("marketing/", include("marketing.urls")),
    path("portal/", include("portal.urls")),
    path("portal-admin/", include("portal.staff_urls")),
    path("exports/", include("exports.urls")),
    path("imports/", include("imports.urls")),
    path("", include("activities.urls")),
    path("handover/", handover_views.handover_page, name="handover"),
    path("search/", lookup_views.search_view, name="search"),
    path("", include("accounts.lookup_urls")),
    path("", include("contacts.lookup_urls")),
    path("autocomplete/phone/", lookup_views.lookup_phone, name="lookup_phone"),
    path("duplicates/", lookup_views.duplicates_check, name="duplicates_check"),
    path("views/save/", lookup_views.saved_view_save, name="saved_view_save"),
    path("views/<int:pk>/delete/", lookup_views.saved_view_delete, name="saved_view_delete"),
    path("notifications/", lookup_views.notification_list, name="notifications"),
    path("notifications/<int:pk>/open/", lookup_views.notification_open, name="notification_open"),
    path("notifications/read-all/", lookup_views.notification_read_all, name="notification_read_all"),
    path("auth/", include(auth_patterns)),
    path("admin-tools/", include(admin_tools)),
    path("admin-tools/webhooks/", include("webhooks.urls")),
    path("django-admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
handler500 = "crm.views.server_error"
