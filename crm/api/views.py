"""API views: parse (serializer) → authorize (visibility policy) → call a service → respond.

Reads start from `Model.objects.visible_to(user)`; one row comes through
`get_visible_or_404` / `get_editable_or_404`, so a hidden row answers 404 exactly like a
missing one and a visible read-only row answers 403. Writes call the same services as the
pages (account_create, contact_update, activity_delete, …); deletes are soft.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts import services as account_services
from accounts.models import Account
from activities import services as activity_services
from activities.models import Activity
from contacts import services as contact_services
from contacts.models import Contact
from crm.api import filters, serializers
from crm.models import User
from crm.visibility import can_create, get_editable_or_404, get_visible_or_404


def exception_handler(exc, context):
    # A service's model validation (full_clean) is the client's mistake: 400 with the messages per
    # field, and the service's transaction has rolled back, so nothing changed.
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializers.as_api_error(exc))
    return drf_exception_handler(exc, context)


class OwnedViewSet(viewsets.ModelViewSet):
    """CRUD over one owned model through the visibility policy and its write services."""

    model = None
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    ordering = ("-id",)
    ordering_fields = ("id", "created_at", "updated_at")

    def base_queryset(self):
        return self.model.objects.all()

    def get_queryset(self):
        return self.base_queryset().visible_to(self.request.user)

    def get_object(self):
        lookup = {"pk": self.kwargs["pk"]}
        if self.action in {"update", "partial_update", "destroy"}:
            return get_editable_or_404(self.base_queryset(), self.request.user, **lookup)
        return get_visible_or_404(self.base_queryset(), self.request.user, **lookup)

    # --- writes: through the services ----------------------------------------
    def create_record(self, data: dict):
        raise NotImplementedError

    def update_record(self, instance, data: dict):
        raise NotImplementedError

    def delete_record(self, instance) -> None:
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        if not can_create(request.user, self.model):
            raise exceptions.PermissionDenied
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_record(serializer.validated_data)
        headers = {"Location": request.build_absolute_uri(f"{request.path.rstrip('/')}/{instance.pk}/")}
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED, headers=headers)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        instance = self.update_record(instance, serializer.validated_data)
        return Response(self.get_serializer(instance).data)

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        self.delete_record(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit is not None:
            response["X-RateLimit-Limit"] = str(rate_limit.limit)
            response["X-RateLimit-Remaining"] = str(rate_limit.remaining)
            response["X-RateLimit-Reset"] = str(rate_limit.reset_in)
        return response


def _crud_docs(singular: str, plural: str, extra: str = ""):
    return extend_schema_view(
        list=extend_schema(summary=f"List {plural}",
                           description=f"The {plural} you may see, newest first by default. Cursor-paginated: "
                                       f"follow `next`. {extra}"),
        retrieve=extend_schema(summary=f"Read one {singular}",
                               description=f"404 when the {singular} is missing or hidden from you."),
        create=extend_schema(summary=f"Create a {singular}",
                             description="403 when your role may not create it."),
        update=extend_schema(summary=f"Replace a {singular}",
                             description="404 when hidden or missing; 403 when you may read it but not change it."),
        partial_update=extend_schema(summary=f"Change some fields of a {singular}",
                                     description="404 when hidden or missing; 403 when you may read it but not "
                                                 "change it."),
        destroy=extend_schema(summary=f"Delete a {singular}",
                              description="Soft delete: it leaves every list and stays in the history."),
    )


@_crud_docs("account", "accounts", "Filters as on the accounts page; `q` matches name, e-mail, tax number or a "
                                   "phone in any format.")
class AccountViewSet(OwnedViewSet):
    model = Account
    serializer_class = serializers.AccountSerializer
    filterset_class = filters.AccountApiFilter
    ordering_fields = ("id", "name", "created_at", "updated_at")

    def create_record(self, data):
        return account_services.account_create(actor=self.request.user, **data)

    def update_record(self, instance, data):
        return account_services.account_update(account=instance, actor=self.request.user, **data)

    def delete_record(self, instance):
        account_services.account_delete(account=instance, actor=self.request.user)


@_crud_docs("contact", "contacts", "`q` matches a name, an e-mail or a phone in any format.")
class ContactViewSet(OwnedViewSet):
    model = Contact
    serializer_class = serializers.ContactSerializer
    filterset_class = filters.ContactApiFilter
    ordering_fields = ("id", "last_name", "created_at", "updated_at")

    def create_record(self, data):
        return contact_services.contact_create(actor=self.request.user, **data)

    def update_record(self, instance, data):
        return contact_services.contact_update(contact=instance, actor=self.request.user, **data)

    def delete_record(self, instance):
        contact_services.contact_delete(contact=instance, actor=self.request.user)


@_crud_docs("activity", "activities", "You see the activities of your circle, of every account or contact you "
                                      "may see, and the meetings you are invited to.")
class ActivityViewSet(OwnedViewSet):
    model = Activity
    serializer_class = serializers.ActivitySerializer
    filterset_class = filters.ActivityApiFilter
    ordering_fields = ("id", "occurred_at", "created_at", "updated_at")

    def base_queryset(self):
        return Activity.objects.prefetch_related(
            Prefetch("attendees", queryset=User.objects.only("id")),
            Prefetch("contact_attendees", queryset=Contact.objects.only("id")),
        )

    def create_record(self, data):
        return activity_services.activity_create(actor=self.request.user, **data)

    def update_record(self, instance, data):
        return activity_services.activity_update(activity=instance, actor=self.request.user, **data)

    def delete_record(self, instance):
        activity_services.activity_delete(activity=instance, actor=self.request.user)


@csrf_exempt  # it changes nothing; a POST to a wrong URL is a 404 like a GET
@login_not_required
def not_found(request, *args, **kwargs):
    """Any other URL under /api/: a JSON 404 like the API's own."""
    return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)


# --- Schema and interactive docs ----------------------------------------------


# DRF marks its views `login_required = False`: LoginRequiredMiddleware lets a token request through
# and DRF answers 401 itself. The schema (token or session) is such a view.
SchemaView = SpectacularAPIView


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from drf-spectacular-sidecar (static files, no CDN). The split view serves its
    start-up script as a separate same-origin file, so the page needs no inline script under our
    CSP. Browser only: LoginRequiredMiddleware sends a signed-out visitor to the sign-in page."""

    template_name = "crm/api_docs.html"
    title = _("CRM API")

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        view.login_required = True  # a person: the sign-in page rather than a bare 401
        return view
