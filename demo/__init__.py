"""The demo: the hub on the embedded default beside both sandboxes, with a business story (HUB_DEMO=1 only)."""
