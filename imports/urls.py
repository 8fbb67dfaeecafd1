from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.upload, name="upload"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/mapping/", views.mapping, name="mapping"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/errors.csv", views.errors_csv, name="errors_csv"),
    path("<int:pk>/undo/", views.undo, name="undo"),
    path("<int:pk>/abandon/", views.abandon, name="abandon"),
]
