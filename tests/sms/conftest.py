from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sms.sink import Sink, http_sink


@pytest.fixture
def sink() -> Iterator[Sink]:
    with http_sink() as started:
        yield started
