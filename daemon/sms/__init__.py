"""Carrying out SMS deliveries on the reactor (``sender``)."""
