"""/api/activities/: calls, meetings, tasks, notes and e-mails through the visibility policy,
written through activities.services."""

from datetime import UTC, datetime

import django_filters
from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Account
from activities import services as activity_services
from activities.models import Activity, ActivityKind, TaskStatus
from contacts.models import Contact
from crm.api.filters import ChangedFilters, IdFilter
from crm.api.routes import register
from crm.api.serializers import OwnedSerializer
from crm.api.views import OwnedViewSet, crud_docs
from crm.models import User

# Dates outside this range are typing errors, and would overflow reminder arithmetic.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60  # four weeks


def _in_range(value):
    if value is not None and not EARLIEST <= value < LATEST:
        raise serializers.ValidationError(_("Enter a date between 1900 and 2199."))
    return value


class ActivitySerializer(OwnedSerializer):
    """A call, meeting, task, note or logged e-mail, about an account and/or a contact."""

    kind = serializers.ChoiceField(choices=ActivityKind.choices,
                                   help_text=_("Call, meeting, task, note or e-mail; cannot change later."))
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), required=False, allow_null=True,
                                                 help_text=_("Account id (a visible account)."))
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), required=False, allow_null=True,
                                                 help_text=_("Contact id (a visible contact)."))
    attendees = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), many=True,
                                                   required=False, help_text=_("Colleagues invited (user ids)."))
    contact_attendees = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), many=True,
                                                           required=False,
                                                           help_text=_("Contacts attending (visible contact ids)."))
    remind_minutes_before = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_REMINDER_MINUTES,
        help_text=_("Tasks and meetings: remind the owner and attendees this many minutes before."))

    class Meta:
        model = Activity
        fields = [
            "id", "kind", "subject", "body", "account", "contact", "occurred_at", "ends_at", "location", "direction",
            "outcome", "duration_minutes", "priority", "status", "completed_at", "attendees", "contact_attendees",
            "remind_minutes_before", *OwnedSerializer.common_fields,
        ]
        read_only_fields = ["completed_at"]

    def limit_choices(self, user):
        accounts = Account.objects.visible_to(user)
        if self.instance is not None and getattr(self.instance, "account_id", None):
            # The contact's current account may stay, even if the user cannot open it.
            accounts = accounts | Account.objects.filter(pk=self.instance.account_id)
        self.fields["account"].queryset = accounts.distinct()
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        self.fields["contact_attendees"].child_relation.queryset = Contact.objects.visible_to(user)

    validate_occurred_at = staticmethod(_in_range)
    validate_ends_at = staticmethod(_in_range)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance

        def current(name):
            return attrs[name] if name in attrs else getattr(instance, name, None)

        if instance is not None and "kind" in attrs and attrs["kind"] != instance.kind:
            raise serializers.ValidationError({"kind": _("The kind of an activity cannot change.")})
        kind, account, contact = current("kind"), current("account"), current("contact")
        if not account and not contact and kind != ActivityKind.TASK:
            raise serializers.ValidationError(_("Link it to an account or a contact."))
        if contact and account and contact.account_id and contact.account_id != account.pk:
            raise serializers.ValidationError({"contact": _("This contact belongs to another account.")})
        starts, ends = current("occurred_at"), current("ends_at")
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": _("The end must be after the start.")})
        return attrs


class ActivityApiFilter(ChangedFilters):
    q = django_filters.CharFilter(label=_("Search in the subject"), method="search")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ActivityKind.choices)
    status = django_filters.ChoiceFilter(label=_("Task status"), choices=TaskStatus.choices)
    account = IdFilter(field_name="account_id", label=_("Account id"))
    contact = IdFilter(field_name="contact_id", label=_("Contact id"))
    owner = IdFilter(field_name="owner_id", label=_("Owner (user id)"))
    mine = django_filters.BooleanFilter(label=_("Only mine"), method="only_mine")
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Happens at or after (ISO 8601)"))
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Happens before (ISO 8601)"))

    class Meta:
        model = Activity
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(subject__icontains=value)) if value else queryset

    def only_mine(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value else queryset


@crud_docs("activity", "activities", "You see the activities of your circle, of every account or contact you "
                                      "may see, and the meetings you are invited to.")
class ActivityViewSet(OwnedViewSet):
    model = Activity
    serializer_class = ActivitySerializer
    filterset_class = ActivityApiFilter
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


register("activities", ActivityViewSet, basename="activity")
