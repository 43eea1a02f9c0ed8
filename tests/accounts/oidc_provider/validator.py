from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    """Claims as a company provider sends them (email, verified flag, groups), and a refresh
    refused for a deactivated person, as Keycloak, Okta or Entra ID refuse it."""

    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "groups": "profile",
    }

    def get_additional_claims(self, request):
        user = request.user
        groups = sorted(user.groups.values_list("name", flat=True))
        return {
            "email": user.email,
            "email_verified": "unverified-email" not in groups,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "groups": [name for name in groups if name != "unverified-email"],
        }

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        return valid and request.user.is_active
