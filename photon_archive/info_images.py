"""Info images (SPEC §8): three sticky channels per site, each showing one exposure at a time.

The channel of an upload comes from the object's ``info-channel`` metadata, else from the
``{site}#metadata`` item the upload API writes (``channel1..3`` = base filename). Which exposure a
channel shows is decided by ``exposure_order`` (night, then counter): a newer exposure replaces the
item whole, files of the same exposure add to it, and an older one processed late changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from photon_archive.errors import Rejected
from photon_archive.naming import ObjectName, parse_key, thumbnail_key

CHANNELS = (1, 2, 3)
CHANNEL_METADATA = "info-channel"
# The path field photonranch-api reads for each flag it finds set (a missing one is a 204, on which
# the frontend clears the channel): an EX00 fits sets fits_01_exists, so its key must be there too.
READER_PATH_FIELDS = {
    "fits_01_exists": "fits_01_file_path",
    "fits_10_exists": "fits_10_file_path",
    "jpg_medium_exists": "jpg_10_file_path",
    "jpg_small_exists": "jpg_11_file_path",
}


def metadata_pk(site: str) -> str:
    return f"{site}#metadata"


def channel_for(
    name: ObjectName, object_metadata: Mapping[str, str], site_metadata: Mapping[str, str]
) -> int:
    """The channel an info-image file belongs to, or a rejection saying why none could be found."""
    raw = object_metadata.get(CHANNEL_METADATA)
    if raw is not None:
        if raw.strip() not in {str(c) for c in CHANNELS}:
            raise Rejected(f"info-channel metadata {raw!r} is not one of 1, 2, 3")
        return int(raw)
    for channel in CHANNELS:
        if site_metadata.get(f"channel{channel}") == name.base_filename:
            return channel
    raise Rejected(
        f"no info channel for {name.base_filename}: no info-channel metadata on the object and "
        f"the {metadata_pk(name.site)} item names it on no channel"
    )


@dataclass(frozen=True)
class InfoImageFile:
    """What one file contributes to its channel's item."""

    site: str
    channel: int
    base_filename: str
    data_type: str
    file_date: str  # YYYYMMDD from the name
    exposure_order: str  # sorts newer exposures after older ones
    path_fields: tuple[str, ...]  # "{ext}_{reduction}_file_path", and the one the API reads for the flag
    key: str
    flag: str | None
    header: dict[str, str] | None

    @property
    def pk(self) -> str:
        return f"{self.site}#{self.channel}"


def info_image_file(name: ObjectName, channel: int, header: dict[str, str] | None) -> InfoImageFile:
    night = name.date.strftime("%Y%m%d")
    return InfoImageFile(
        site=name.site,
        channel=channel,
        base_filename=name.base_filename,
        data_type=name.data_type,
        file_date=night,
        exposure_order=f"{night}-{name.counter}-{name.instrument}",
        path_fields=_path_fields(name),
        key=name.key,
        flag=name.catalog_flag,
        header=header,
    )


def _path_fields(name: ObjectName) -> tuple[str, ...]:
    """Where a file's key goes on its item: its own field and, if its flag is read with another, that."""
    own = name.file_path_field
    read = READER_PATH_FIELDS.get(name.catalog_flag or "", own)
    return (own,) if read == own else (own, read)


def channel_objects(paths: Iterable[str]) -> list[str]:
    """The keys a channel item names (its ``paths``), and the thumbnail of each medium jpg among them:
    what goes when the item expires."""
    keys = set(paths)
    for key in list(keys):
        try:
            name = parse_key(key)
        except Rejected:
            continue
        if name.makes_thumbnail:
            keys.add(thumbnail_key(name))
    return sorted(keys)
