"""The policy engine's errors.

A ``PolicyError`` means a policy cannot be saved as given (``field`` names the policy
attribute at fault) or a request cannot be decided (conflicting values, a condition whose
data is missing): privacyIDEA answers both with error 303, and so should the edges.
"""

from __future__ import annotations

from tesserad.core.errors import TesseraError


class PolicyError(TesseraError):
    """A policy is invalid, or policies cannot decide a request."""

    def __init__(self, reason: str, *, field: str | None = None, policy: str | None = None):
        self.reason = reason
        self.field = field
        self.policy = policy
        where = "".join([f"policy {policy!r}: " if policy else "", f"{field}: " if field else ""])
        super().__init__(where + reason)


class PolicyNotFound(PolicyError):
    """No policy has the given name."""


class UnsupportedActions(PolicyError):
    """A policy names privacyIDEA actions (or values) tesserad does not enforce yet: it is
    refused rather than stored to do nothing. ``actions`` maps each to the reason."""

    def __init__(self, actions: dict[str, str], *, policy: str | None = None):
        self.actions = actions
        super().__init__("; ".join(actions.values()), field="action", policy=policy)
