"""Initial schema: every table of the domain (tokens, users, policies, events, audit,
challenges, machines, infrastructure, system settings).

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the models' storage types (revisions never import the models):
# aware UTC timestamps with microseconds everywhere, 64-bit keys that SQLite can autoincrement.
UTC_DATETIME = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "admin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_login_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin")),
        sa.UniqueConstraint("username", name=op.f("uq_admin_username")),
    )

    op.create_table(
        "audit",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("date", UTC_DATETIME, nullable=False),
        sa.Column("start_date", UTC_DATETIME, nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=255), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("authentication", sa.String(length=20), nullable=False),
        sa.Column("serial", sa.String(length=255), nullable=False),
        sa.Column("token_type", sa.String(length=255), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=False),
        sa.Column("realm", sa.String(length=255), nullable=False),
        sa.Column("resolver", sa.String(length=255), nullable=False),
        sa.Column("administrator", sa.String(length=255), nullable=False),
        sa.Column("action_detail", sa.Text(), nullable=False),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("node", sa.String(length=255), nullable=False),
        sa.Column("client", sa.String(length=50), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("user_agent_version", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("loglevel", sa.String(length=12), nullable=False),
        sa.Column("clearance_level", sa.String(length=12), nullable=False),
        sa.Column("thread_id", sa.String(length=50), nullable=False),
        sa.Column("policies", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_index(op.f("ix_audit_date"), "audit", ["date"])
    op.create_index(op.f("ix_audit_serial"), "audit", ["serial"])
    op.create_index(op.f("ix_audit_user"), "audit", ["user"])

    op.create_table(
        "auth_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("realm", sa.String(length=255), nullable=False),
        sa.Column("resolver", sa.String(length=255), nullable=False),
        sa.Column("client_ip", sa.String(length=50), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("first_auth_at", UTC_DATETIME, nullable=False),
        sa.Column("last_auth_at", UTC_DATETIME, nullable=False),
        sa.Column("auth_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_cache")),
    )
    op.create_index(op.f("ix_auth_cache_last_auth_at"), "auth_cache", ["last_auth_at"])
    op.create_index(op.f("ix_auth_cache_username_realm"), "auth_cache", ["username", "realm"])

    op.create_table(
        "ca_connector",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("catype", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ca_connector")),
        sa.UniqueConstraint("name", name=op.f("uq_ca_connector_name")),
    )

    op.create_table(
        "challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("challenge", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("session", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.Column("otp_valid", sa.Boolean(), nullable=False),
        sa.Column("received_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge")),
    )
    op.create_index(op.f("ix_challenge_expires_at"), "challenge", ["expires_at"])
    op.create_index(op.f("ix_challenge_serial"), "challenge", ["serial"])
    op.create_index(op.f("ix_challenge_transaction_id"), "challenge", ["transaction_id"])

    op.create_table(
        "change_stamp",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_stamp")),
    )

    op.create_table(
        "client_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=50), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("clienttype", sa.String(length=255), nullable=False),
        sa.Column("node", sa.String(length=255), nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_application")),
        sa.UniqueConstraint(
            "ip", "clienttype", "node",
            name=op.f("uq_client_application_ip_clienttype_node"),
        ),
    )

    op.create_table(
        "config",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_config")),
    )

    op.create_table(
        "event_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("node", sa.String(length=255), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_counter")),
        sa.UniqueConstraint("name", "node", name=op.f("uq_event_counter_name_node")),
    )

    op.create_table(
        "event_handler",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("handlermodule", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=255), nullable=False),
        sa.Column("position", sa.String(length=8), nullable=False),
        sa.Column("ordering", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_handler")),
        sa.UniqueConstraint("name", name=op.f("uq_event_handler_name")),
    )

    op.create_table(
        "machine_resolver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("rtype", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_resolver")),
        sa.UniqueConstraint("name", name=op.f("uq_machine_resolver_name")),
    )

    op.create_table(
        "monitoring_stats",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("stats_key", sa.String(length=128), nullable=False),
        sa.Column("timestamp", UTC_DATETIME, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_stats")),
        sa.UniqueConstraint(
            "stats_key", "timestamp",
            name=op.f("uq_monitoring_stats_stats_key_timestamp"),
        ),
    )

    op.create_table(
        "password_reset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("realm", sa.String(length=255), nullable=False),
        sa.Column("resolver", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset")),
    )
    op.create_index(op.f("ix_password_reset_expires_at"), "password_reset", ["expires_at"])
    op.create_index(
        op.f("ix_password_reset_realm_username"), "password_reset", ["realm", "username"]
    )

    op.create_table(
        "periodic_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("taskmodule", sa.String(length=255), nullable=False),
        sa.Column("interval", sa.String(length=255), nullable=False),
        sa.Column("nodes", sa.Text(), nullable=False),
        sa.Column("ordering", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("retry_if_failed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periodic_task")),
        sa.UniqueConstraint("name", name=op.f("uq_periodic_task_name")),
    )

    op.create_table(
        "policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("realm", sa.Text(), nullable=False),
        sa.Column("resolver", sa.Text(), nullable=False),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("adminrealm", sa.Text(), nullable=False),
        sa.Column("adminuser", sa.Text(), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("time", sa.Text(), nullable=False),
        sa.Column("pinode", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("check_all_resolvers", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy")),
        sa.UniqueConstraint("name", name=op.f("uq_policy_name")),
    )
    op.create_index(op.f("ix_policy_scope"), "policy", ["scope"])

    op.create_table(
        "privacyidea_server",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=False),
        sa.Column("tls", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacyidea_server")),
        sa.UniqueConstraint("name", name=op.f("uq_privacyidea_server_name")),
    )

    op.create_table(
        "radius_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("realm", sa.String(length=255), nullable=True),
        sa.Column("require_message_authenticator", sa.Boolean(), nullable=False),
        sa.Column("limit_proxy_state", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_radius_client")),
        sa.UniqueConstraint("name", name=op.f("uq_radius_client_name")),
    )

    op.create_table(
        "radius_server",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("server", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_radius_server")),
        sa.UniqueConstraint("name", name=op.f("uq_radius_server_name")),
    )

    op.create_table(
        "realm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realm")),
        sa.UniqueConstraint("name", name=op.f("uq_realm_name")),
    )

    op.create_table(
        "resolver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("rtype", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolver")),
        sa.UniqueConstraint("name", name=op.f("uq_resolver_name")),
    )

    op.create_table(
        "sms_gateway",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("providermodule", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_gateway")),
        sa.UniqueConstraint("name", name=op.f("uq_sms_gateway_name")),
    )

    op.create_table(
        "smtp_server",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("server", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("password_enc", sa.LargeBinary(), nullable=True),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("tls", sa.Boolean(), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("enqueue_job", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smtp_server")),
        sa.UniqueConstraint("name", name=op.f("uq_smtp_server_name")),
    )

    op.create_table(
        "token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("tokentype", sa.String(length=30), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("otplen", sa.Integer(), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("pin_hash", sa.String(length=255), nullable=True),
        sa.Column("pin_enc", sa.LargeBinary(), nullable=True),
        sa.Column("user_pin_enc", sa.LargeBinary(), nullable=True),
        sa.Column("so_pin_enc", sa.LargeBinary(), nullable=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("count_window", sa.Integer(), nullable=False),
        sa.Column("sync_window", sa.Integer(), nullable=False),
        sa.Column("maxfail", sa.Integer(), nullable=False),
        sa.Column("failcount", sa.Integer(), nullable=False),
        sa.Column("failcount_exceeded_at", UTC_DATETIME, nullable=True),
        sa.Column("count_auth", sa.BigInteger(), nullable=False),
        sa.Column("count_auth_success", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("rollout_state", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_auth_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token")),
        sa.UniqueConstraint("serial", name=op.f("uq_token_serial")),
    )
    op.create_index(op.f("ix_token_tokentype"), "token", ["tokentype"])

    op.create_table(
        "token_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_group")),
        sa.UniqueConstraint("name", name=op.f("uq_token_group_name")),
    )

    op.create_table(
        "user_cache",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("used_login", sa.String(length=320), nullable=False),
        sa.Column("resolver", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_cache")),
    )
    op.create_index(op.f("ix_user_cache_created_at"), "user_cache", ["created_at"])
    op.create_index(
        op.f("ix_user_cache_used_login_resolver"), "user_cache", ["used_login", "resolver"]
    )

    op.create_table(
        "ca_connector_config",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["ca_connector.id"],
            name=op.f("fk_ca_connector_config_connector_id_ca_connector"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ca_connector_config")),
        sa.UniqueConstraint(
            "connector_id", "key",
            name=op.f("uq_ca_connector_config_connector_id_key"),
        ),
    )

    op.create_table(
        "custom_user_attribute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("resolver", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["realm_id"],
            ["realm.id"],
            name=op.f("fk_custom_user_attribute_realm_id_realm"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_user_attribute")),
        sa.UniqueConstraint(
            "realm_id", "resolver", "user_id", "key",
            name=op.f("uq_custom_user_attribute_realm_id_resolver_user_id_key"),
        ),
    )

    op.create_table(
        "event_handler_condition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("comparator", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["handler_id"],
            ["event_handler.id"],
            name=op.f("fk_event_handler_condition_handler_id_event_handler"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_handler_condition")),
        sa.UniqueConstraint(
            "handler_id", "key",
            name=op.f("uq_event_handler_condition_handler_id_key"),
        ),
    )

    op.create_table(
        "event_handler_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handler_id"],
            ["event_handler.id"],
            name=op.f("fk_event_handler_option_handler_id_event_handler"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_handler_option")),
        sa.UniqueConstraint(
            "handler_id", "key",
            name=op.f("uq_event_handler_option_handler_id_key"),
        ),
    )

    op.create_table(
        "machine_resolver_config",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resolver_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resolver_id"],
            ["machine_resolver.id"],
            name=op.f("fk_machine_resolver_config_resolver_id_machine_resolver"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_resolver_config")),
        sa.UniqueConstraint(
            "resolver_id", "key",
            name=op.f("uq_machine_resolver_config_resolver_id_key"),
        ),
    )

    op.create_table(
        "machine_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("resolver_id", sa.Integer(), nullable=True),
        sa.Column("machine_id", sa.String(length=255), nullable=True),
        sa.Column("application", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["resolver_id"],
            ["machine_resolver.id"],
            name=op.f("fk_machine_token_resolver_id_machine_resolver"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["token.id"],
            name=op.f("fk_machine_token_token_id_token"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_token")),
    )
    op.create_index(
        op.f("ix_machine_token_resolver_id_machine_id"),
        "machine_token",
        ["resolver_id", "machine_id"],
    )
    op.create_index(op.f("ix_machine_token_token_id"), "machine_token", ["token_id"])

    op.create_table(
        "periodic_task_last_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=255), nullable=False),
        sa.Column("last_run_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["periodic_task.id"],
            name=op.f("fk_periodic_task_last_run_task_id_periodic_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periodic_task_last_run")),
        sa.UniqueConstraint("task_id", "node", name=op.f("uq_periodic_task_last_run_task_id_node")),
    )

    op.create_table(
        "periodic_task_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["periodic_task.id"],
            name=op.f("fk_periodic_task_option_task_id_periodic_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_periodic_task_option")),
        sa.UniqueConstraint("task_id", "key", name=op.f("uq_periodic_task_option_task_id_key")),
    )

    op.create_table(
        "policy_condition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("comparator", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policy.id"],
            name=op.f("fk_policy_condition_policy_id_policy"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_condition")),
    )
    op.create_index(op.f("ix_policy_condition_policy_id"), "policy_condition", ["policy_id"])

    op.create_table(
        "resolver_config",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resolver_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resolver_id"],
            ["resolver.id"],
            name=op.f("fk_resolver_config_resolver_id_resolver"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolver_config")),
        sa.UniqueConstraint("resolver_id", "key", name=op.f("uq_resolver_config_resolver_id_key")),
    )

    op.create_table(
        "resolver_realm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("resolver_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["realm_id"],
            ["realm.id"],
            name=op.f("fk_resolver_realm_realm_id_realm"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolver_id"],
            ["resolver.id"],
            name=op.f("fk_resolver_realm_resolver_id_resolver"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolver_realm")),
        sa.UniqueConstraint(
            "realm_id", "resolver_id",
            name=op.f("uq_resolver_realm_realm_id_resolver_id"),
        ),
    )
    op.create_index(op.f("ix_resolver_realm_resolver_id"), "resolver_realm", ["resolver_id"])

    op.create_table(
        "sms_gateway_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gateway_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["sms_gateway.id"],
            name=op.f("fk_sms_gateway_option_gateway_id_sms_gateway"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_gateway_option")),
        sa.UniqueConstraint(
            "gateway_id", "kind", "key",
            name=op.f("uq_sms_gateway_option_gateway_id_kind_key"),
        ),
    )

    op.create_table(
        "token_group_member",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["token_group.id"],
            name=op.f("fk_token_group_member_group_id_token_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["token.id"],
            name=op.f("fk_token_group_member_token_id_token"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", "group_id", name=op.f("pk_token_group_member")),
    )
    op.create_index(op.f("ix_token_group_member_group_id"), "token_group_member", ["group_id"])

    op.create_table(
        "token_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["token.id"],
            name=op.f("fk_token_info_token_id_token"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_info")),
        sa.UniqueConstraint("token_id", "key", name=op.f("uq_token_info_token_id_key")),
    )

    op.create_table(
        "token_owner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("resolver", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["realm_id"],
            ["realm.id"],
            name=op.f("fk_token_owner_realm_id_realm"),
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["token.id"],
            name=op.f("fk_token_owner_token_id_token"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_owner")),
        sa.UniqueConstraint(
            "token_id", "realm_id", "resolver", "user_id",
            name=op.f("uq_token_owner_token_id_realm_id_resolver_user_id"),
        ),
    )
    op.create_index(op.f("ix_token_owner_realm_id"), "token_owner", ["realm_id"])
    op.create_index(op.f("ix_token_owner_resolver_user_id"), "token_owner", ["resolver", "user_id"])

    op.create_table(
        "token_realm",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["realm_id"],
            ["realm.id"],
            name=op.f("fk_token_realm_realm_id_realm"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["token.id"],
            name=op.f("fk_token_realm_token_id_token"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", "realm_id", name=op.f("pk_token_realm")),
    )
    op.create_index(op.f("ix_token_realm_realm_id"), "token_realm", ["realm_id"])

    op.create_table(
        "machine_token_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("machine_token_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["machine_token_id"],
            ["machine_token.id"],
            name=op.f("fk_machine_token_option_machine_token_id_machine_token"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_machine_token_option")),
        sa.UniqueConstraint(
            "machine_token_id", "key",
            name=op.f("uq_machine_token_option_machine_token_id_key"),
        ),
    )


def downgrade() -> None:
    op.drop_table("machine_token_option")
    op.drop_table("token_realm")
    op.drop_table("token_owner")
    op.drop_table("token_info")
    op.drop_table("token_group_member")
    op.drop_table("sms_gateway_option")
    op.drop_table("resolver_realm")
    op.drop_table("resolver_config")
    op.drop_table("policy_condition")
    op.drop_table("periodic_task_option")
    op.drop_table("periodic_task_last_run")
    op.drop_table("machine_token")
    op.drop_table("machine_resolver_config")
    op.drop_table("event_handler_option")
    op.drop_table("event_handler_condition")
    op.drop_table("custom_user_attribute")
    op.drop_table("ca_connector_config")
    op.drop_table("user_cache")
    op.drop_table("token_group")
    op.drop_table("token")
    op.drop_table("smtp_server")
    op.drop_table("sms_gateway")
    op.drop_table("resolver")
    op.drop_table("realm")
    op.drop_table("radius_server")
    op.drop_table("radius_client")
    op.drop_table("privacyidea_server")
    op.drop_table("policy")
    op.drop_table("periodic_task")
    op.drop_table("password_reset")
    op.drop_table("monitoring_stats")
    op.drop_table("machine_resolver")
    op.drop_table("event_handler")
    op.drop_table("event_counter")
    op.drop_table("config")
    op.drop_table("client_application")
    op.drop_table("change_stamp")
    op.drop_table("challenge")
    op.drop_table("ca_connector")
    op.drop_table("auth_cache")
    op.drop_table("audit")
    op.drop_table("admin")
