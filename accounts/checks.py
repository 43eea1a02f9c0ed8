"""Start-up checks of the sign-in settings: a wrong group map fails at deploy, not at the first
staff sign-in."""

from django.conf import settings
from django.core.checks import Error, register

from .roles import TIER_LEVELS


@register()
def check_oidc_settings(app_configs, **kwargs):
    errors = []
    mapping = settings.OIDC_GROUP_MAP
    if not isinstance(mapping, dict):
        return [Error("OIDC_GROUP_MAP must be a JSON object of group → grant.", id="accounts.E001")]
    for group, grant in mapping.items():
        if not isinstance(grant, dict) or not set(grant) <= {"tier", "services"}:
            errors.append(
                Error(
                    f'OIDC_GROUP_MAP["{group}"] must be an object with "tier" and/or "services".',
                    id="accounts.E002",
                )
            )
            continue
        if "tier" in grant and grant["tier"] not in TIER_LEVELS:
            errors.append(
                Error(f'OIDC_GROUP_MAP["{group}"]["tier"] must be 1, 2 or 3.', id="accounts.E003")
            )
        services = grant.get("services", [])
        if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
            errors.append(
                Error(
                    f'OIDC_GROUP_MAP["{group}"]["services"] must be a list of service slugs.',
                    id="accounts.E004",
                )
            )
    if settings.OIDC_ISSUER and not (settings.OIDC_CLIENT_ID and settings.OIDC_CLIENT_SECRET):
        errors.append(
            Error(
                "OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too.",
                id="accounts.E005",
            )
        )
    if settings.OIDC_REQUIRED_FOR_STAFF and not settings.OIDC_ISSUER:
        errors.append(
            Error(
                "OIDC_REQUIRED_FOR_STAFF is on but OIDC_ISSUER is unset: no staff could sign in.",
                id="accounts.E006",
            )
        )
    return errors
