"""Policies: what may happen, for whom, from where, when.

List-valued fields (``realm``, ``user``, ``client`` ...) keep the comma-separated text the
API and the import/export format use; the policy engine parses them once per change.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tesserad.core.store.models.base import NAME_LENGTH, Base


class Policy(Base):
    """One policy. Empty list fields match everything; ``priority`` 1 is the strongest."""

    __tablename__ = "policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    # admin, user, authentication, authorization, enrollment, webui, register, audit
    scope: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(Text, default="")
    realm: Mapped[str] = mapped_column(Text, default="")
    resolver: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[str] = mapped_column(Text, default="")
    adminrealm: Mapped[str] = mapped_column(Text, default="")
    adminuser: Mapped[str] = mapped_column(Text, default="")
    client: Mapped[str] = mapped_column(Text, default="")
    time: Mapped[str] = mapped_column(Text, default="")
    pinode: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    check_all_resolvers: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")

    conditions: Mapped[list[PolicyCondition]] = relationship(
        back_populates="policy",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PolicyCondition.id",
    )


class PolicyCondition(Base):
    """An extended condition: ``section`` (userinfo, token, tokeninfo, HTTP Request
    header, HTTP Environment), ``key``, ``comparator``, ``value``; all active ones must hold."""

    __tablename__ = "policy_condition"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id", ondelete="CASCADE"), index=True)
    section: Mapped[str] = mapped_column(String(NAME_LENGTH))
    key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    comparator: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    policy: Mapped[Policy] = relationship(back_populates="conditions")
