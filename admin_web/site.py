"""The root web resource: every HTTP route of the daemon hangs off this one Klein app."""

from __future__ import annotations

from twisted.web.resource import IResource
from twisted.web.server import Site

from tesserad.admin_web.health import Health


def build_site(health: Health) -> Site:
    """A twisted.web Site for the web listeners; REST resources join as they are built."""
    resource: IResource = health.app.resource()
    site = Site(resource)
    site.noisy = False
    site.displayTracebacks = False
    return site
