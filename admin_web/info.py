"""``/info``: which server this is and which privacyIDEA API level it speaks (no login)."""

from __future__ import annotations

from typing import Any

from tesserad import __version__
from tesserad.admin_web.api import API_VERSION
from tesserad.admin_web.rest import PUBLIC, Call, Resource, endpoint


class InfoResource(Resource):
    @endpoint("GET", "/info", roles=PUBLIC, audit=False)
    def info(self, call: Call) -> Any:
        """``{"server": "tesserad", "version": ..., "api_version": "3.8"}``."""
        return {"server": "tesserad", "version": __version__, "api_version": API_VERSION}
