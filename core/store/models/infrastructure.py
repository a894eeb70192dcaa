"""Definitions of the systems tesserad talks to, and the periodic tasks it runs.

Every definition is referred to by its unique ``name`` (the API's "identifier"), so
policies and token settings can point at one by name. Secrets are security-module
ciphertext in ``*_enc`` columns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tesserad.core.store.models.base import NAME_LENGTH, TYPE_LENGTH, Base, KeyValueMixin, UTCDateTime


class RadiusClient(Base):
    """A NAS allowed to send requests to tesserad's RADIUS server."""

    __tablename__ = "radius_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    # An IP address or a CIDR network, as text.
    address: Mapped[str] = mapped_column(String(64))
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    # Realm for requests from this client that name none; None means the default realm.
    realm: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    # BlastRADIUS (CVE-2024-3596) defences; both on unless a legacy NAS needs them off.
    require_message_authenticator: Mapped[bool] = mapped_column(Boolean, default=True)
    limit_proxy_state: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(Text, default="")


class RadiusServer(Base):
    """An upstream RADIUS server (RADIUS tokens, ``passthru=<name>``)."""

    __tablename__ = "radius_server"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    server: Mapped[str] = mapped_column(String(NAME_LENGTH))
    port: Mapped[int] = mapped_column(Integer, default=1812)
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    timeout: Mapped[int] = mapped_column(Integer, default=5)
    retries: Mapped[int] = mapped_column(Integer, default=3)
    description: Mapped[str] = mapped_column(Text, default="")


class PrivacyIDEAServer(Base):
    """A remote privacyIDEA-compatible server (remote tokens, Federation handler)."""

    __tablename__ = "privacyidea_server"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    url: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # Verify the server's TLS certificate.
    tls: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(Text, default="")


class SMTPServer(Base):
    """A mail server for email tokens, notifications, registration and recovery mails."""

    __tablename__ = "smtp_server"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    server: Mapped[str] = mapped_column(String(NAME_LENGTH))
    port: Mapped[int] = mapped_column(Integer, default=25)
    username: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    password_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    sender: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    # STARTTLS
    tls: Mapped[bool] = mapped_column(Boolean, default=False)
    # TLS from the first byte (SMTPS, port 465); a tesserad addition to privacyIDEA's fields.
    implicit_tls: Mapped[bool] = mapped_column(Boolean, default=False)
    timeout: Mapped[int] = mapped_column(Integer, default=10)
    enqueue_job: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")


class SMSGateway(Base):
    """An SMS provider (HTTP, SMTP, SMPP, Sipgate, script, Firebase) and its settings."""

    __tablename__ = "sms_gateway"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    providermodule: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")

    options: Mapped[list[SMSGatewayOption]] = relationship(
        back_populates="gateway", cascade="all, delete-orphan", passive_deletes=True
    )


class SMSGatewayOption(KeyValueMixin, Base):
    """A provider parameter. ``kind`` keeps request options and HTTP headers, which may
    share a name, apart; ``type`` is ``password`` for encrypted values as elsewhere."""

    __tablename__ = "sms_gateway_option"
    __table_args__ = (UniqueConstraint("gateway_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway_id: Mapped[int] = mapped_column(ForeignKey("sms_gateway.id", ondelete="CASCADE"))
    # option or header
    kind: Mapped[str] = mapped_column(String(16), default="option")

    gateway: Mapped[SMSGateway] = relationship(back_populates="options")


class CAConnector(Base):
    """A certificate authority for certificate tokens; ``catype`` is ``local`` or ``microsoft``."""

    __tablename__ = "ca_connector"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    catype: Mapped[str] = mapped_column(String(TYPE_LENGTH))

    config: Mapped[list[CAConnectorConfig]] = relationship(
        back_populates="connector", cascade="all, delete-orphan", passive_deletes=True
    )


class CAConnectorConfig(KeyValueMixin, Base):
    """One CA connector setting; key passwords have type ``password``."""

    __tablename__ = "ca_connector_config"
    __table_args__ = (UniqueConstraint("connector_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("ca_connector.id", ondelete="CASCADE"))

    connector: Mapped[CAConnector] = relationship(back_populates="config")


class PeriodicTask(Base):
    """A task module run on a cron ``interval`` by the listed ``nodes`` (comma-separated)."""

    __tablename__ = "periodic_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    taskmodule: Mapped[str] = mapped_column(String(NAME_LENGTH))
    interval: Mapped[str] = mapped_column(String(NAME_LENGTH))
    nodes: Mapped[str] = mapped_column(Text, default="")
    ordering: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retry_if_failed: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    options: Mapped[list[PeriodicTaskOption]] = relationship(
        back_populates="task", cascade="all, delete-orphan", passive_deletes=True
    )
    last_runs: Mapped[list[PeriodicTaskLastRun]] = relationship(
        back_populates="task", cascade="all, delete-orphan", passive_deletes=True
    )


class PeriodicTaskOption(Base):
    """A task module option (e.g. SimpleStats ``total_tokens``)."""

    __tablename__ = "periodic_task_option"
    __table_args__ = (UniqueConstraint("task_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("periodic_task.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    value: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[PeriodicTask] = relationship(back_populates="options")


class PeriodicTaskLastRun(Base):
    """When a task last succeeded on a node; each node schedules from its own row."""

    __tablename__ = "periodic_task_last_run"
    __table_args__ = (UniqueConstraint("task_id", "node"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("periodic_task.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(String(NAME_LENGTH))
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)

    task: Mapped[PeriodicTask] = relationship(back_populates="last_runs")
