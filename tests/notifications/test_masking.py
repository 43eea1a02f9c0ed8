"""Link credentials are masked wherever an email is shown: only the token segment goes."""

from notifications.masking import MASK, mask_credentials

UNSUBSCRIBE = "https://portal.example.com/maintenance/unsubscribe/Tok3n-value_1:SiGnAtUrE-abc/"


def test_the_token_segment_of_our_credential_links_is_masked_and_nothing_else(settings):
    """Unsubscribe, confirm, verification and reset links lose their token; sentence
    punctuation after a link, other links and the rest of the text stay as they were."""
    settings.SITE_URL = "https://portal.example.com"
    text = (
        f"Unsubscribe: {UNSUBSCRIBE}.\n"
        "Confirm (https://portal.example.com/maintenance/subscribe/confirm/Abc:1x:Sig/).\n"
        "Verify: https://portal.example.com/accounts/verify/MQ/c4x1y2-0123456789abcdef/\n"
        "Reset: https://portal.example.com/accounts/reset/MQ/c4x1y2-fedcba9876543210/\n"
        "Your ticket: https://portal.example.com/tickets/42/ and https://example.org/x/Tok3n/\n"
    )
    [masked] = mask_credentials(text)
    assert masked == (
        f"Unsubscribe: https://portal.example.com/maintenance/unsubscribe/{MASK}/.\n"
        f"Confirm (https://portal.example.com/maintenance/subscribe/confirm/{MASK}/).\n"
        f"Verify: https://portal.example.com/accounts/verify/MQ/{MASK}/\n"
        f"Reset: https://portal.example.com/accounts/reset/MQ/{MASK}/\n"
        "Your ticket: https://portal.example.com/tickets/42/ and https://example.org/x/Tok3n/\n"
    )


def test_html_headers_and_keys_of_the_same_email_are_masked_together(settings):
    """In HTML attributes, a List-Unsubscribe header and an outbox key made from the token,
    the credential a link carries is masked too."""
    settings.SITE_URL = "https://portal.example.com"
    reset = "https://portal.example.com/accounts/reset/MQ/c4x1y2-0123456789abcdef/"
    key, html, header = mask_credentials(
        "accounts:user:1:password_reset:c4x1y2-0123456789abcdef:9f",
        f'<a href="{reset}">{reset}</a>',
        f"<{UNSUBSCRIBE}>",
    )
    assert key == f"accounts:user:1:password_reset:{MASK}:9f"
    masked_reset = f"https://portal.example.com/accounts/reset/MQ/{MASK}/"
    assert html == f'<a href="{masked_reset}">{masked_reset}</a>'
    assert header == f"<https://portal.example.com/maintenance/unsubscribe/{MASK}/>"


def test_a_site_served_under_a_path_is_masked_too(settings):
    """SITE_URL with a path ahead of the routes (a portal under /support/)."""
    settings.SITE_URL = "https://example.com/support"
    [masked] = mask_credentials(
        "https://example.com/support/maintenance/unsubscribe/Tok3n-value_1:SiGnAtUrE-abc/"
    )
    assert masked == f"https://example.com/support/maintenance/unsubscribe/{MASK}/"
