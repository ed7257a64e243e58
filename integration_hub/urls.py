from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from syncs.hooks import salesforce_outbound

from .health import healthz
from .metrics import metrics

admin.site.site_header = "Integration Hub"
admin.site.site_title = "Integration Hub"
admin.site.index_title = "Salesforce ↔ NetSuite"
# The dashboard links every page; the side navigation would take a quarter of a 1280 px screen from the lists.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("hooks/salesforce/outbound/<str:token>/", salesforce_outbound, name="salesforce-outbound"),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
