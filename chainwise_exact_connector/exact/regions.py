"""Exact Online hosts per region, and the custom base URL of a sandbox."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

#: Same paths everywhere, only the host differs; a token of one region fails on another.
REGIONS: dict[str, str] = {
    "nl": "https://start.exactonline.nl",
    "be": "https://start.exactonline.be",
    "de": "https://start.exactonline.de",
    "uk": "https://start.exactonline.co.uk",
    "com": "https://start.exactonline.com",
    "es": "https://start.exactonline.es",
    "fr": "https://start.exactonline.fr",
}

# Spellings people type for a region that the table keys differently.
_ALIASES = {"co.uk": "uk", "gb": "uk", "us": "com"}


def base_url(region: str | None, custom_url: str | None = None) -> str:
    """Return the base URL (scheme and host, no trailing slash).

    A non-empty ``custom_url`` wins over the region (the sandbox, a test server).
    It must be an absolute http(s) URL; whether plain http is acceptable is decided
    by the OAuth layer (only for loopback hosts).
    """
    if custom_url and custom_url.strip():
        url = custom_url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"Not an absolute http(s) URL: {custom_url!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"A base URL has no query or fragment: {custom_url!r}")
        return url
    key = (region or "").strip().lower()
    key = _ALIASES.get(key, key)
    if key not in REGIONS:
        raise ValueError(
            f"Unknown Exact Online region {region!r}; expected one of {', '.join(REGIONS)}"
        )
    return REGIONS[key]


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
