from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("new/", views.endpoint_create, name="endpoint_create"),
    path("<int:pk>/", views.endpoint_edit, name="endpoint_edit"),
    path("<int:pk>/rotate-secret/", views.endpoint_rotate_secret, name="endpoint_rotate_secret"),
    path("<int:pk>/ping/", views.endpoint_ping, name="endpoint_ping"),
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/resend/", views.delivery_resend, name="delivery_resend"),
]
