"""The Dagster shell: every job, op, sensor, schedule, asset and check of the project, and the
resources they take, loaded the ``dg`` way (the component tree of ``[tool.dg]`` in
pyproject.toml). Everything outside this package is plain Python that Dagster never has to import."""
