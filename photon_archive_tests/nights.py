"""Two sites' uploads of two nights, a rejection on each of two of the four, for the tests of the
nightly report and of the run tags."""

from __future__ import annotations

import random
from datetime import date

from photon_archive_tests.archive import Archive

FIRST, SECOND = date(2026, 11, 24), date(2026, 11, 25)
PAIRS = {(night, site) for night in (FIRST, SECOND) for site in ("sro", "mrc")}
EMPTY_HEADER = f"data/mrc-kb001ms-{SECOND:%Y%m%d}-00000009-EX00.txt"
NOT_AN_IMAGE = f"data/sro-kb001ms-{FIRST:%Y%m%d}-00000009-EX10.jpg"


def upload_nights(archive: Archive) -> list[str]:
    """Upload the two nights of both sites; every key uploaded."""
    keys = []
    for night, site in sorted(PAIRS):
        keys += archive.upload_sample(night=night, site=site, count=2 if site == "sro" else 1)
    archive.put(EMPTY_HEADER, b"", "text/plain")
    archive.put(NOT_AN_IMAGE, random.Random(4).randbytes(5000), "image/jpeg")
    return [*keys, EMPTY_HEADER, NOT_AN_IMAGE]
