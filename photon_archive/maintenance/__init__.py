"""What the maintenance jobs (``defs/maintenance/``) decide and delete with: which exposures are due,
how one is deleted, and the report of a run's deletions."""
