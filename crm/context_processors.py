def navigation(request):
    """Which top-level section the page belongs to, for the active menu item."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return {"nav_section": ""}
    section = match.app_name or match.url_name or ""
    return {"nav_section": "sales" if section == "accounts" else section}
