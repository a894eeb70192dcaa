"""Fixtures of the HTTP tests: the in-memory REST API over the wired core, and more people."""

from tests.http.people import people  # noqa: F401  (a fixture)
from tests.http.realm_pair import pair  # noqa: F401,E402  (a fixture)
from tests.http.restapi import api  # noqa: F401  (a fixture)
