"""Where credentials may travel (over https to any host, over plain http only to this machine),
and what may go into a URL's path."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

# Beyond this alphabet an id could change the URL it goes into ("..", "/", "?", "#").
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,128}")


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


def is_path_segment(value: str) -> bool:
    """Whether ``value`` can go into a URL path as it is, without changing where it leads."""
    return _PATH_SEGMENT.fullmatch(value) is not None
