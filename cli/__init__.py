"""The ``imagin`` command line (delivery side: typer and rich live here, not in core/)."""
