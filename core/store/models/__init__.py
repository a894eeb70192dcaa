"""All tesserad tables. Importing this package registers every model on ``Base.metadata``,
which is what Alembic compares against."""

from tesserad.core.store.models.audit import AuditEntry
from tesserad.core.store.models.base import Base, UTCDateTime
from tesserad.core.store.models.challenges import AuthCache, Challenge
from tesserad.core.store.models.credentials import TokenCredential
from tesserad.core.store.models.events import (
    EventCounter,
    EventHandler,
    EventHandlerCondition,
    EventHandlerOption,
)
from tesserad.core.store.models.infrastructure import (
    CAConnector,
    CAConnectorConfig,
    PeriodicTask,
    PeriodicTaskLastRun,
    PeriodicTaskOption,
    PrivacyIDEAServer,
    RadiusClient,
    RadiusServer,
    SMSGateway,
    SMSGatewayOption,
    SMTPServer,
)
from tesserad.core.store.models.logins import LoginFailure
from tesserad.core.store.models.machines import (
    MachineResolver,
    MachineResolverConfig,
    MachineToken,
    MachineTokenOption,
)
from tesserad.core.store.models.monitoring import ClientApplication, MonitoringStats
from tesserad.core.store.models.outbox import OutboxMessage
from tesserad.core.store.models.policies import Policy, PolicyCondition
from tesserad.core.store.models.system import ChangeStamp, Config
from tesserad.core.store.models.tokens import (
    Token,
    TokenGroup,
    TokenGroupMember,
    TokenInfo,
    TokenOwner,
    TokenRealm,
)
from tesserad.core.store.models.users import (
    Admin,
    CustomUserAttribute,
    PasswordReset,
    Realm,
    Resolver,
    ResolverConfig,
    ResolverRealm,
    UserCache,
)

__all__ = [
    "Admin",
    "AuditEntry",
    "AuthCache",
    "Base",
    "CAConnector",
    "CAConnectorConfig",
    "Challenge",
    "ChangeStamp",
    "ClientApplication",
    "Config",
    "CustomUserAttribute",
    "EventCounter",
    "EventHandler",
    "EventHandlerCondition",
    "EventHandlerOption",
    "LoginFailure",
    "MachineResolver",
    "MachineResolverConfig",
    "MachineToken",
    "MachineTokenOption",
    "MonitoringStats",
    "OutboxMessage",
    "PasswordReset",
    "PeriodicTask",
    "PeriodicTaskLastRun",
    "PeriodicTaskOption",
    "Policy",
    "PolicyCondition",
    "PrivacyIDEAServer",
    "RadiusClient",
    "RadiusServer",
    "Realm",
    "Resolver",
    "ResolverConfig",
    "ResolverRealm",
    "SMSGateway",
    "SMSGatewayOption",
    "SMTPServer",
    "Token",
    "TokenCredential",
    "TokenGroup",
    "TokenGroupMember",
    "TokenInfo",
    "TokenOwner",
    "TokenRealm",
    "UTCDateTime",
    "UserCache",
]
