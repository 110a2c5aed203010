"""The ingest: a batch of S3 objects in, catalog rows, thumbnails, logs and notifications out."""
