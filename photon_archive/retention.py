"""How long an exposure lives (SPEC §7): rules keyed by data type, optionally per site.

Written as ``EP=604800,EF=86400,tst:EP=300,tst:EF=300`` (seconds), the legacy defaults: ``EP``
exposures expire after 7 days, ``EF`` after 1 day, both after 300 s at the test site ``tst``; other
data types never expire.
"""

from __future__ import annotations

DEFAULT_EXPIRATION_RULES = "EP=604800,EF=86400,tst:EP=300,tst:EF=300"


def parse_rules(text: str) -> dict[tuple[str | None, str], int]:
    """``[site:]DATATYPE=seconds`` entries separated by commas; a malformed entry is a ValueError."""
    rules: dict[tuple[str | None, str], int] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        target, _, seconds = entry.partition("=")
        site, _, data_type = target.rpartition(":")
        if not data_type or not seconds.strip().isdigit():
            raise ValueError(f"expiration rule {entry!r} is not [site:]DATATYPE=seconds")
        rules[(site or None, data_type)] = int(seconds)
    return rules


def expiry_seconds(site: str, data_type: str, rules: dict[tuple[str | None, str], int]) -> int | None:
    """Seconds from upload to expiry, or None for an exposure that never expires."""
    specific = rules.get((site, data_type))
    return specific if specific is not None else rules.get((None, data_type))
