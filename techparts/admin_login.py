"""Admin login lockout: the settings django-axes reads, its lockout page, and security logs.

django-axes keeps the failure counts in the database, so every app process sees the same
count; it keys them on the username and the client address from `techparts.client_ip`.
"""

import logging
from datetime import timedelta

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from techparts.client_ip import client_ip

logger = logging.getLogger("techparts.security")


def failure_limit(request: HttpRequest, credentials: dict | None) -> int:
    """Return how many failures lock a username and address (ADMIN_LOGIN_MAX_FAILURES)."""
    return settings.ADMIN_LOGIN_MAX_FAILURES


def cool_off(request: HttpRequest | None) -> timedelta:
    """Return how long a lockout lasts after the last failure (ADMIN_LOGIN_LOCKOUT_SECONDS)."""
    return timedelta(seconds=settings.ADMIN_LOGIN_LOCKOUT_SECONDS)


def lockout_username(request: HttpRequest, credentials: dict | None) -> str:
    """Return the username failures are counted for: trimmed and case-folded.

    Case variants of one name share a count, so 'Clerk' and 'CLERK' buy no extra guesses.
    """
    username = (credentials or {}).get("username")
    if username is None:
        username = getattr(request, "POST", {}).get("username")
    return str(username or "").strip().lower()[:150]


def locked_out_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """Render the admin's lockout page: 429, nothing said about the password."""
    minutes = max(settings.ADMIN_LOGIN_LOCKOUT_SECONDS // 60, 1)
    response = render(
        request,
        "admin/login_locked_out.html",
        {
            **admin.site.each_context(request),
            "title": "Too many failed login attempts",
            "minutes": minutes,
        },
        status=429,
    )
    response["Retry-After"] = str(settings.ADMIN_LOGIN_LOCKOUT_SECONDS)
    return response


@receiver(user_login_failed)
def _log_failed_login(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    # Receivers run in the order they were connected; axes (installed first) has counted
    # this failure by now. No count: axes refused the attempt as locked out, logged below.
    failures = getattr(request, "axes_failures_since_start", None)
    if request is None or failures is None:
        return
    logger.warning(
        "Failed admin login (%s) for %r from %s",
        failures,
        lockout_username(request, credentials),
        client_ip(request),
    )


@receiver(user_locked_out)
def _log_lockout(sender, request: HttpRequest, username: str, ip_address: str, **kwargs):
    logger.warning("Admin login locked out for %r from %s", username, ip_address)


class FixedAccessAttemptAdmin(AccessAttemptAdmin):
    @admin.action(description="Clean up expired attempts")
    def cleanup_expired_attempts(self, request, queryset):
        # django-axes' action reads the attempt time its login handler stamps on login requests
        # only; from the admin page it would raise AttributeError. Stamp it here.
        request.axes_attempt_time = timezone.now()
        return super().cleanup_expired_attempts(request, queryset)


def fix_axes_admin(site) -> None:
    """Register django-axes' access attempts with an admin whose clean-up action works."""
    if site.is_registered(AccessAttempt):
        site.unregister(AccessAttempt)
    site.register(AccessAttempt, FixedAccessAttemptAdmin)
