"""HTTP edge: the privacyIDEA-compatible REST API and the web UI, served by Klein."""
