from django import template

from syncs import console

register = template.Library()


@register.inclusion_tag("admin/syncs/dashboard.html", takes_context=True)
def hub_dashboard(context):
    request = context["request"]
    if not request.user.has_perm("syncs.view_syncjob"):
        return {"visible": False}
    return {"visible": True, "request": request, "perms": context.get("perms"), **console.dashboard_context(request)}
