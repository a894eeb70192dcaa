"""The in-memory REST API fixture of tests/http, for the /machine/* tests."""

from tests.http.restapi import api  # noqa: F401  (a fixture)
