"""Masking of secrets for display, logs and errors: ``sk-ab…wxyz``."""

from __future__ import annotations


def mask(secret: str | None) -> str:
    """Show a secret as its first 5 and last 4 characters (``sk-ab…wxyz``).

    Short secrets reveal less: under 12 characters only the last 2 are shown,
    under 6 nothing but the ellipsis.
    """
    if not secret:
        return ""
    s = secret.strip()
    if len(s) < 6:
        return "…"
    if len(s) < 12:
        return "…" + s[-2:]
    return f"{s[:5]}…{s[-4:]}"


def safe_proxy_url(value: str | None) -> str | None:
    """A proxy URL with any ``user:password@`` replaced by ``…@``."""
    if not isinstance(value, str) or not value:
        return None
    if value == "direct" or "@" not in value:
        return value
    scheme, _, rest = value.partition("://")
    return f"{scheme}://…@{rest.rsplit('@', 1)[-1]}"
