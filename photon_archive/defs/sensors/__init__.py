"""Sensors that turn new S3 objects into ingest runs: the event queue (fast) and prefix scans (complete)."""
