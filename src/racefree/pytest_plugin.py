"""pytest plugin: ``pytest --race`` (being built in this session)."""
