"""The tags every run carries, by which the Runs page filters: the one home of their names and values.

A run's scope (which prefix, which site, how many objects) is known when it is planned (a sensor's
run) or once it has listed its selection (a replay, a baseline); its outcome once it has ingested.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from photon_archive.errors import Rejected
from photon_archive.naming import parse_key

TAG_JOB = "photon_archive/job"
TAG_SOURCE = "photon_archive/source"
TAG_PREFIX = "photon_archive/prefix"
TAG_SITE = "photon_archive/site"
TAG_OBJECTS = "photon_archive/objects"
TAG_INGESTED = "photon_archive/ingested"
TAG_REJECTED = "photon_archive/rejected"
TAG_FAILED = "photon_archive/failed"
TAG_OUTCOME = "photon_archive/outcome"
# On a run asking again for objects whose earlier runs never started: those runs' run keys, by spaces.
TAG_ASKED_AGAIN_FOR = "photon_archive/asked_again_for"
# The value of a scope tag whose run spans more than one prefix or site.
SEVERAL = "several"


def one_or_several(values: Iterable[str]) -> str:
    """The value itself when every one is the same; ``several`` otherwise (none: ``several`` too)."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else SEVERAL


def site_of(key: str) -> str | None:
    """The site a key's name gives; None for a name that does not parse (the ingest rejects it)."""
    try:
        return parse_key(key).site
    except Rejected:
        return None


def scope_tags(keys: Iterable[str]) -> dict[str, str]:
    """The prefix, site and object count of a run that handles ``keys``."""
    keys = list(keys)
    return {
        TAG_PREFIX: one_or_several(key.partition("/")[0] for key in keys),
        TAG_SITE: one_or_several(site for key in keys if (site := site_of(key)) is not None),
        TAG_OBJECTS: str(len(keys)),
    }


def outcome_tags(ingested: int, rejected: int, failed: int) -> dict[str, str]:
    """What a finished ingest did: its counts, and in one word the worst of it."""
    outcome = "failed" if failed else "rejections" if rejected else "ingested"
    return {
        TAG_INGESTED: str(ingested),
        TAG_REJECTED: str(rejected),
        TAG_FAILED: str(failed),
        TAG_OUTCOME: outcome,
    }


def missing(tags: Mapping[str, str], given: Mapping[str, str]) -> dict[str, str]:
    """The ``tags`` a run given ``given`` lacks: a tag it was launched with is never replaced."""
    return {name: value for name, value in tags.items() if name not in given}
