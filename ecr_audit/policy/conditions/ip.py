"""``IpAddress`` / ``NotIpAddress``: IPv4 and IPv6 addresses or CIDR ranges."""

from __future__ import annotations

import ipaddress
from typing import Callable

from ecr_audit.policy.context import KeyLookup
from ecr_audit.policy.logic import Tri

ValueMatcher = Callable[[str, KeyLookup], Tri]


def in_range(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR range") from None

    def matches(value: str, lookup: KeyLookup) -> Tri:
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return False
        return any(address.version == net.version and address in net for net in networks)
    return matches
