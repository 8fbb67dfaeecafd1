"""Leads and deals named their campaign in free text; now they point to a Campaign. Each distinct
name (trimmed, compared without case) becomes one campaign, owned by whoever owns the earliest
lead or deal that named it, and every lead and deal that named it is attributed to it. Runs
before sales drops the text columns."""

from django.db import migrations


def _owner_for(rows, fallback_id):
    for row in rows:
        if row["owner_id"]:
            return row["owner_id"]
    return fallback_id


def campaigns_from_text(apps, schema_editor):
    Lead = apps.get_model("sales", "Lead")
    Opportunity = apps.get_model("sales", "Opportunity")
    Campaign = apps.get_model("marketing", "Campaign")
    LeadAttribution = apps.get_model("marketing", "LeadAttribution")
    DealAttribution = apps.get_model("marketing", "DealAttribution")
    User = apps.get_model("crm", "User")

    named: dict[str, dict] = {}  # lower-cased name -> {"name", "leads": [...], "deals": [...]}
    for model, key in ((Lead, "leads"), (Opportunity, "deals")):
        rows = model.objects.exclude(campaign="").order_by("created_at", "id").values(
            "id", "campaign", "owner_id", "created_at")
        for row in rows.iterator(chunk_size=2000):
            name = " ".join(row["campaign"].split())
            if not name:
                continue
            entry = named.setdefault(name.lower(), {"name": name, "leads": [], "deals": []})
            entry[key].append(row)
    if not named:
        return
    fallback = (User.objects.filter(is_superuser=True).order_by("id").values_list("id", flat=True).first()
                or User.objects.filter(role="admin").order_by("id").values_list("id", flat=True).first()
                or User.objects.order_by("id").values_list("id", flat=True).first())
    team_of = dict(User.objects.values_list("id", "team_id"))
    for entry in named.values():
        rows = sorted(entry["leads"] + entry["deals"], key=lambda row: (row["created_at"], row["id"]))
        owner_id = _owner_for(rows, fallback)
        if owner_id is None:
            raise RuntimeError("Leads or deals name a campaign but there is no user to own it: create one first.")
        first_day = min(row["created_at"] for row in rows).date()
        campaign = Campaign.objects.create(
            name=entry["name"][:200], type="other", status="completed", start_date=first_day, owner_id=owner_id,
            team_id=team_of.get(owner_id), description="Created from the free-text campaign of leads and deals.")
        LeadAttribution.objects.bulk_create(
            [LeadAttribution(lead_id=row["id"], campaign=campaign) for row in entry["leads"]], batch_size=2000)
        DealAttribution.objects.bulk_create(
            [DealAttribution(opportunity_id=row["id"], campaign=campaign) for row in entry["deals"]], batch_size=2000)


def text_from_campaigns(apps, schema_editor):
    """Backwards: the text columns come back (sales' migration reverses first) and are refilled."""
    Lead = apps.get_model("sales", "Lead")
    Opportunity = apps.get_model("sales", "Opportunity")
    LeadAttribution = apps.get_model("marketing", "LeadAttribution")
    DealAttribution = apps.get_model("marketing", "DealAttribution")
    for attribution in LeadAttribution.objects.select_related("campaign").iterator(chunk_size=2000):
        Lead.objects.filter(pk=attribution.lead_id).update(campaign=attribution.campaign.name[:200])
    for attribution in DealAttribution.objects.select_related("campaign").iterator(chunk_size=2000):
        Opportunity.objects.filter(pk=attribution.opportunity_id).update(campaign=attribution.campaign.name[:200])


class Migration(migrations.Migration):
    dependencies = [
        ("marketing", "0001_initial"),
        ("sales", "0006_quote_number_prefix_idx"),
    ]
    run_before = [("sales", "0008_remove_free_text_campaign")]

    operations = [migrations.RunPython(campaigns_from_text, text_from_campaigns)]


