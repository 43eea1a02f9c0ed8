"""The token in an email-verification link."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Like a password-reset token, valid for ``PASSWORD_RESET_TIMEOUT`` (3 days by default).

    Its own salt, so a password-reset link can never verify an account or the reverse; and it
    hashes ``is_active``, so the link works once: the account it activates invalidates it.
    """

    key_salt = "accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


email_verification_token = EmailVerificationTokenGenerator()
