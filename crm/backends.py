from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce


class EmailBackend(ModelBackend):
    """Django's backend (users sign in with their e-mail, the USERNAME_FIELD).

    Every page needs, besides the user, their team, the teams they manage (the visibility scope,
    crm.visibility.managed_team_ids) and their unread notifications (the bell in the top bar):
    all four come from one query here instead of three on every request."""

    def get_user(self, user_id):
        from crm.models import Notification, Team

        user_model = get_user_model()
        unread = (Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True).order_by()
                  .values("user").annotate(count=Count("pk")).values("count"))
        managed = Team.objects.filter(manager=OuterRef("pk")).order_by().values("manager").annotate(
            ids=ArrayAgg("pk")).values("ids")
        user = (user_model._default_manager.select_related("team").filter(pk=user_id)
                .annotate(unread_count=Coalesce(Subquery(unread, output_field=IntegerField()), 0),
                          managed_ids=Subquery(managed)).first())
        if user is None or not self.user_can_authenticate(user):
            return None
        # Read by crm.visibility.managed_team_ids and crm.context_processors.notifications.
        user.__dict__["_managed_team_ids"] = frozenset(user.__dict__.pop("managed_ids") or ())
        user.__dict__["_unread_notifications"] = user.__dict__.pop("unread_count")
        return user



