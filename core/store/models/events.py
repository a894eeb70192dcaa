"""Event handler definitions and the per-node counters of the Counter handler."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tesserad.core.store.models.base import NAME_LENGTH, Base, KeyValueMixin


class EventHandler(Base):
    """Runs ``action`` of ``handlermodule`` when one of ``events`` (comma-separated event
    names such as ``validate_check``) fires, before (``pre``) or after (``post``) the request."""

    __tablename__ = "event_handler"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    events: Mapped[str] = mapped_column(Text, default="")
    handlermodule: Mapped[str] = mapped_column(String(NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(NAME_LENGTH))
    position: Mapped[str] = mapped_column(String(8), default="post")
    ordering: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    options: Mapped[list[EventHandlerOption]] = relationship(
        back_populates="handler", cascade="all, delete-orphan", passive_deletes=True
    )
    conditions: Mapped[list[EventHandlerCondition]] = relationship(
        back_populates="handler", cascade="all, delete-orphan", passive_deletes=True
    )


class EventHandlerOption(KeyValueMixin, Base):
    """An action option (e.g. ``emailconfig``, ``body``)."""

    __tablename__ = "event_handler_option"
    __table_args__ = (UniqueConstraint("handler_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handler_id: Mapped[int] = mapped_column(ForeignKey("event_handler.id", ondelete="CASCADE"))

    handler: Mapped[EventHandler] = relationship(back_populates="options")


class EventHandlerCondition(Base):
    """A condition the event must meet (e.g. ``result_value`` = ``False``)."""

    __tablename__ = "event_handler_condition"
    __table_args__ = (UniqueConstraint("handler_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handler_id: Mapped[int] = mapped_column(ForeignKey("event_handler.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    value: Mapped[str] = mapped_column(Text, default="")
    comparator: Mapped[str] = mapped_column(String(32), default="equals")

    handler: Mapped[EventHandler] = relationship(back_populates="conditions")


class EventCounter(Base):
    """A Counter-handler counter. Each node writes its own row (the counter's value is the
    sum), so replicated nodes never contend for one row."""

    __tablename__ = "event_counter"
    __table_args__ = (UniqueConstraint("name", "node"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    node: Mapped[str] = mapped_column(String(NAME_LENGTH))
    value: Mapped[int] = mapped_column(BigInteger, default=0)
