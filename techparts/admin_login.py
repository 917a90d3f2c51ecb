"""Slow down password guessing on the admin login: lock a username+address after failures."""

import logging

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

logger = logging.getLogger("techparts.security")


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    def _lock_key(self) -> str:
        username = (self.data.get("username") or "").strip().lower()[:150]
        address = self.request.META.get("REMOTE_ADDR", "?") if self.request else "?"
        return f"admin-login-failures:{address}:{username}"

    def clean(self):
        key = self._lock_key()
        if cache.get(key, 0) >= settings.ADMIN_LOGIN_MAX_FAILURES:
            logger.warning("Admin login refused while locked out: %s", key)
            minutes = max(settings.ADMIN_LOGIN_LOCKOUT_SECONDS // 60, 1)
            raise ValidationError(
                f"Too many failed login attempts. Try again in {minutes} minutes.",
                code="locked_out",
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            cache.add(key, 0, timeout=settings.ADMIN_LOGIN_LOCKOUT_SECONDS)
            failures = cache.incr(key)
            logger.warning("Failed admin login (%d): %s", failures, key)
            raise
        cache.delete(key)
        return cleaned
