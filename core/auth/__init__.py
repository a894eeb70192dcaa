"""The authentication engine: one request in, one result out, for RADIUS, PAM and HTTP."""
