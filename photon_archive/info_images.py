"""Info images (SPEC §8): three sticky channels per site, each showing one exposure at a time.

The channel of an upload comes from the object's ``info-channel`` metadata, else from the
``{site}#metadata`` item the upload API writes (``channel1..3`` = base filename). Which exposure a
channel shows is decided by ``exposure_order`` (night, then counter): a newer exposure replaces the
item whole, files of the same exposure add to it, and an older one processed late changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from photon_archive.errors import Rejected
from photon_archive.naming import ObjectName

CHANNELS = (1, 2, 3)
CHANNEL_METADATA = "info-channel"


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
    path_field: str  # "{ext}_{reduction}_file_path"
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
        path_field=name.file_path_field,
        key=name.key,
        flag=name.catalog_flag,
        header=header,
    )
