"""Schema revisions, oldest first by revision id (``0001_initial``, ``0002_...``)."""
