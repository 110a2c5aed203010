"""photon_archive: the Photon Ranch observatory image ingest, as a Dagster project."""
