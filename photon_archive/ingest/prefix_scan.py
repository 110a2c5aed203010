"""The completeness path: scanning the watched prefixes for objects the ledger does not have.

Events get lost (notifications off, a queue purged, a message dead-lettered), so this sensor looks
at the bucket itself. A tick lists only where new objects can be: for every source (site and
instrument) seen under a prefix, the keys of the recent nights, which the object-name grammar puts
together (``{site}-{instrument}-{YYYYMMDD}-…``); plus one page of a slow sweep over the whole prefix,
resumed from the cursor, which finds new sources and anything older. So a tick costs the recent
uploads and one page, whatever the size of the bucket. The sensor itself is
``defs/sensors/prefix_scan.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from photon_archive.aws.bucket import Bucket
from photon_archive.errors import Rejected
from photon_archive.naming import parse_key
from photon_archive.records import ObjectInfo


@dataclass
class ScanCursor:
    """Per prefix: where the sweep stands, and the sources (``site-instrument``) seen there."""

    sweep: dict[str, str] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def loads(cls, text: str | None) -> ScanCursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            sweep=dict(data.get("sweep", {})),
            sources={k: list(v) for k, v in data.get("sources", {}).items()},
        )

    def dumps(self) -> str:
        return json.dumps({"sweep": self.sweep, "sources": self.sources}, sort_keys=True)

    def learn(self, prefix: str, key: str) -> None:
        try:
            name = parse_key(key)
        except Rejected:
            return
        source = f"{name.site}-{name.instrument}"
        known = self.sources.setdefault(prefix, [])
        if source not in known:
            known.append(source)
            known.sort()


def recent_nights(today: date, lookback_days: int) -> list[str]:
    """The dates a new upload can carry: the last nights, and tomorrow for sites east of UTC."""
    return [(today + timedelta(days=d)).strftime("%Y%m%d") for d in range(-lookback_days, 2)]


def scan_listing(
    bucket: Bucket, prefix: str, cursor: ScanCursor, today: date, lookback_days: int, sweep_page: int
) -> list[ObjectInfo]:
    """What one tick lists under ``prefix``: the recent nights of every known source, one sweep page."""
    listed: dict[str, ObjectInfo] = {}
    nights = recent_nights(today, lookback_days)
    for source in cursor.sources.get(prefix, []):
        # The recent nights of a source are one run of keys: one listing from the first night on,
        # stopped past the last, instead of one per night.
        start = f"{prefix}/{source}-"
        for info in bucket.list_objects(start, start_after=f"{start}{nights[0]}"):
            if info.key[len(start) : len(start) + len(nights[-1])] > nights[-1]:
                break
            listed[info.key] = info
    page = list(bucket.list_objects(f"{prefix}/", cursor.sweep.get(prefix, ""), limit=sweep_page))
    for info in page:
        listed[info.key] = info
        cursor.learn(prefix, info.key)
    # A short page is the end of the prefix: the next sweep starts over.
    cursor.sweep[prefix] = page[-1].key if len(page) == sweep_page else ""
    return list(listed.values())
