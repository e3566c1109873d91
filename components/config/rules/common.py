"""What the rules share: how a rule reports a problem, and reading a CIDR block."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from components.config.base import PRIVATE_CIDRS

Add = Callable[[str, Any, str, str], None]
"""`add(key, value, message, fix)`: one problem with the setting `key` (without the project
namespace), in the file that set it."""

PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in PRIVATE_CIDRS)


def parse_cidr(value: str, key: str, add: Add) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        add(key, value, "not a CIDR block", "write it as a network address and prefix, e.g. 10.40.0.0/16")
        return None
    if not isinstance(net, ipaddress.IPv4Network):
        add(key, value, "IPv6 is not supported here", "use an IPv4 CIDR block")
        return None
    return net
