from django import template

from syncs import console

register = template.Library()


@register.inclusion_tag("admin/syncs/dashboard.html", takes_context=True)
def hub_dashboard(context):
    request = context["request"]
    if not request.user.has_perm("syncs.view_syncjob"):
        return {"visible": False}
    return {"visible": True, "request": request, "perms": context.get("perms"), **console.dashboard_context(request)}


@register.filter
def urlencode_message(message: str) -> str:
    """The remote_message filter of the attempts list, as a query-string pair."""
    from urllib.parse import urlencode

    return urlencode({"remote_message": message})
