"""API views: parse (serializer) → authorize (visibility policy) → call a service → respond.

Reads start from `Model.objects.visible_to(user)`; one row comes through
`get_visible_or_404` / `get_editable_or_404`, so a hidden row answers 404 exactly like a
missing one and a visible read-only row answers 403. Writes call the same services as the
pages (account_create, contact_update, activity_delete, …); deletes are soft.

The base classes here serve every module's view sets (accounts/api.py, contacts/api.py,
sales/api/, activities/api.py); each module registers its routes in crm/api/routes.py.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.api import serializers
from crm.visibility import can_create, can_read, get_editable_or_404, get_visible_or_404


def exception_handler(exc, context):
    # A service's model validation (full_clean) is the client's mistake: 400 with the messages per
    # field, and the service's transaction has rolled back, so nothing changed.
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(serializers.as_api_error(exc))
    return drf_exception_handler(exc, context)


MISSING_VERSION = _("Required on every change: send the lock_version you read, so that a change made by "
                    "someone else since is not overwritten (409 when it was).")
VERSION_HELP = _("The version you read. Required on every change (PUT and PATCH; a change without it answers "
                 "400); if the record changed since, the answer is 409 and nothing is saved. Ignored on create.")


class RoleReadsTheModel:
    """A role that never reads this kind of record (support on deals, orders, invoices) gets 404 on every
    route of it, lists and creates included: the same answer as for a hidden record, as on the pages."""

    policy_model = None  # the model whose policy decides, when the route's model has none (payments: invoices)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        model = self.policy_model or self.model
        if model is not None and hasattr(model, "visibility_policy") and not can_read(request.user, model):
            raise exceptions.NotFound


class OwnedViewSet(RoleReadsTheModel, viewsets.ModelViewSet):
    """CRUD over one owned model through the visibility policy and its write services."""

    model = None
    # A versioned model (optimistic locking): every change (PUT and PATCH) must send the lock_version it
    # read; one without it is refused with 400, never applied blind. The schema says so on the field.
    versioned = False
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
        if self.versioned and request.data.get("lock_version") in (None, ""):
            raise exceptions.ValidationError({"lock_version": [MISSING_VERSION]})
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


def crud_docs(singular: str, plural: str, extra: str = ""):
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


def read_docs(singular: str, plural: str, extra: str = ""):
    return extend_schema_view(
        list=extend_schema(summary=f"List {plural}",
                           description=f"The {plural} you may see, newest first by default. Cursor-paginated: "
                                       f"follow `next`. Read-only. {extra}"),
        retrieve=extend_schema(summary=f"Read one {singular}",
                               description=f"404 when the {singular} is missing or hidden from you."),
    )


class VisibleReadOnlyViewSet(RoleReadsTheModel, viewsets.ReadOnlyModelViewSet):
    """Read-only list and detail through the visibility policy; a hidden or missing row is a 404."""

    model = None
    ordering = ("-id",)
    ordering_fields = ("id", "created_at", "updated_at")

    def base_queryset(self):
        return self.model.objects.all()

    def get_queryset(self):
        return self.base_queryset().visible_to(self.request.user)

    def get_object(self):
        try:
            return self.get_queryset().get(pk=int(self.kwargs["pk"]))
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise Http404 from None


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
