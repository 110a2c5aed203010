"""Lineage in the Dagster UI: what the ingest runs produce, and the checks that should hold.

The ingest job is op-based (its input is a list of objects, not a partition), so these are
external assets: the runs report a materialization of each table they wrote, with numeric metadata
the UI plots over time, and the run id on every event leads back to the run and its ledger rows.
"""

from __future__ import annotations

from dagster import AssetKey, AssetMaterialization, AssetObservation, AssetSpec

from photon_archive.ingest.decisions import BatchResult
from photon_archive.naming import EXPOSURE_TABLE, Prefix

S3_OBJECTS = AssetKey("s3_objects")
INFO_CHANNELS = AssetKey("info_channels")
THUMBNAILS = AssetKey("thumbnails")
# Which asset the objects under each prefix become.
PREFIX_ASSETS = {
    **{prefix: AssetKey(table) for prefix, table in EXPOSURE_TABLE.items()},
    Prefix.INFO_IMAGES: INFO_CHANNELS,
}

asset_specs = [
    AssetSpec(S3_OBJECTS, description="Objects uploaded to the observatory bucket, as the sensors see them."),
    AssetSpec(
        "images", deps=[S3_OBJECTS], description="Postgres `images`: one row per exposure under data/."
    ),
    AssetSpec("allsky_images", deps=[S3_OBJECTS], description="Postgres `allsky_images`, from allsky/."),
    AssetSpec(INFO_CHANNELS, deps=[S3_OBJECTS], description="DynamoDB `info-images`: three channels a site."),
    AssetSpec(
        THUMBNAILS,
        deps=["images", "allsky_images", INFO_CHANNELS],
        description="EX11 thumbnails written beside every medium jpg.",
    ),
]


def lineage_events(result: BatchResult, lag_seconds: float) -> list[AssetObservation | AssetMaterialization]:
    """What one ingest run tells the asset graph: the objects it saw, and every asset it wrote."""
    events: list[AssetObservation | AssetMaterialization] = [
        AssetObservation(
            S3_OBJECTS,
            metadata={
                "objects": result.objects,
                "rejected": result.rejected,
                "removed": result.removed,
                "failed": result.failed,
                "lag_seconds": lag_seconds,
            },
        )
    ]
    for prefix, asset in PREFIX_ASSETS.items():
        handled = result.count(prefix=prefix)
        if handled:
            exposures = sum(1 for p, _ in result.exposure_keys if p == prefix)
            metadata = {
                "objects": handled,
                "ingested": result.count("ingested", prefix),
                "rejected": result.count("rejected", prefix),
                "exposures": exposures,
                "lag_seconds": lag_seconds,
            }
            events.append(AssetMaterialization(asset, metadata=metadata))
    if result.thumbnails_written:
        events.append(AssetMaterialization(THUMBNAILS, metadata={"written": result.thumbnails_written}))
    return events
