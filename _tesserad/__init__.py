"""Tessera: one daemon for RADIUS, PAM and REST multi-factor authentication.

The source folders ``core/``, ``radius/``, ``pam_module/``, ``admin_web/`` and ``daemon/``
are installed as ``tesserad.core``, ``tesserad.radius`` ... (see setup.py).
"""

__version__ = "0.1.0"
