"""TokenRecord declares Token's columns for the type checker; they must stay in step."""

from __future__ import annotations

from tesserad.core.store.models import Token
from tesserad.core.tokens.record import TokenRecord


def test_the_record_declares_every_column_of_token_with_its_type() -> None:
    declared = {name: hint for name, hint in TokenRecord.__annotations__.items() if not name.startswith("_")}
    assert set(declared) == set(Token.__table__.columns.keys())
    assert {name: Token.__annotations__[name] for name in declared} == {
        name: f"Mapped[{hint}]" for name, hint in declared.items()}
