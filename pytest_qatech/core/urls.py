"""Where credentials may travel: over https to any host, over plain http only to this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def credentials_may_travel(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and is_loopback(parts.hostname or "")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
