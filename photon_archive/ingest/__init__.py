"""The ingest as plain Python: the objects, the batch's decisions and its executor, what the sensors
decide (``delivery``, ``prefix_scan``) and what a replay selects; the jobs and sensors are ``defs/``."""
