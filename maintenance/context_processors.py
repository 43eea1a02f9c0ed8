def maintenance_banner(request):
    """The maintenance banner shown on every page (filled in by the maintenance issue)."""
    return {"maintenance_banners": []}
