"""Template helpers of the product catalogue: the data of an opportunity's lines card, so the
opportunity page includes sales/_opportunity_lines.html with nothing but `opportunity` and `can_edit`."""

from django import template

from sales.product_forms import OpportunityLineAddForm
from sales.product_services import opportunity_lines, opportunity_lines_totals

register = template.Library()


@register.simple_tag(takes_context=True)
def opportunity_lines_data(context, opportunity, line_form=None, editing=None, edit_form=None):
    """Lines with their amounts (from sales.money via opportunity_lines_totals), the totals, and the
    add form (the one given, with its errors, or a blank one for people who may edit). Two queries,
    three with the add form's price books."""
    lines = opportunity_lines(opportunity)
    totals = opportunity_lines_totals(opportunity, lines)
    can_edit = context.get("can_edit")
    if can_edit and not line_form:
        line_form = OpportunityLineAddForm(user=context["request"].user, opportunity=opportunity, prefix="line",
                                           initial={"quantity": 1, "discount_pct": 0})
    return {
        "rows": list(zip(lines, totals.lines, strict=True)),
        "totals": totals,
        "line_form": line_form if can_edit else None,
        "editing": editing,
        "edit_form": edit_form,
    }
