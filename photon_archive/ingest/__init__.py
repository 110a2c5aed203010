"""The ingest as plain Python: the objects, the batch's decisions and its executor, what the sensors
decide (``delivery``, ``prefix_scan``), what a replay selects and what a baseline records; the jobs
and sensors are ``defs/``."""
