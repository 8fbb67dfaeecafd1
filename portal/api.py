"""/api/surveys/: satisfaction surveys (read-only), for the feedback readers (FEEDBACK_DATA), on the
tickets they may see. Filters as the export's (`portal.filters.SurveyFilter`)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from crm.api.routes import register
from crm.visibility import get_visible_or_404
from portal.filters import SurveyFilter
from portal.models import Survey


class SurveySerializer(serializers.ModelSerializer):
    """One survey per resolution of a ticket: the rating (1–5) and comment once answered; the agent and
    queue are the ticket's when it was resolved."""

    ticket_number = serializers.CharField(source="ticket.number", read_only=True)

    class Meta:
        model = Survey
        fields = ["id", "ticket", "ticket_number", "resolved_at", "agent", "queue", "emailed_at", "rating",
                  "comment", "answered_at", "answered_in_portal", "created_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List satisfaction surveys",
                       description="Newest resolution first; `answered=yes|no`, `rating`, `low=true` (1–2), "
                                   "`answered_after` / `answered_before` (dates), `ticket`, `agent`, `queue`. "
                                   "Cursor-paginated."),
    retrieve=extend_schema(summary="Read one survey",
                           description="404 when it is missing or its ticket is hidden or deleted."),
)
class SurveyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SurveySerializer
    filterset_class = SurveyFilter
    ordering = ("-id",)
    ordering_fields = ("id", "resolved_at", "answered_at")

    def get_queryset(self):
        return Survey.objects.visible_to(self.request.user).select_related("ticket")

    def get_object(self):
        return get_visible_or_404(self.get_queryset(), self.request.user, pk=self.kwargs["pk"])


register("surveys", SurveyViewSet, basename="survey")
