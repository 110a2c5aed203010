"""The night the sample data is taken on, unless told otherwise: a fixed date, so that the
README's launchpad examples (a replay of that night, an ingest of its keys) select real objects
of the local stack's sample, whenever it is run, and the tests upload the same names."""

from __future__ import annotations

from datetime import date

SAMPLE_NIGHT = date(2026, 11, 24)
