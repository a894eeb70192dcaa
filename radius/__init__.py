"""RADIUS edge: the native RADIUS server (issue: native RADIUS)."""
