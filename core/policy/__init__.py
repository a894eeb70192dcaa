"""The policy engine: which policies apply to a request, and what they decide.

``actions`` declares every action, ``model`` parses and validates policies, ``matching``
answers queries over an immutable ``PolicySet``, ``store`` keeps policies in SQL with a
stamped cache, and ``auth`` serves the authentication engine.
"""

from tesserad.core.policy.actions import CATALOGUE, REGISTRY, SCOPES, ActionDef, action_def, catalogued, definitions
from tesserad.core.policy.errors import PolicyError, PolicyNotFound, UnsupportedActions
from tesserad.core.policy.matching import PolicyQuery, PolicySet
from tesserad.core.policy.model import COMPARATORS, SECTIONS, Condition, PolicyDef, build_policy
from tesserad.core.policy.store import PolicyStore

__all__ = ["CATALOGUE", "COMPARATORS", "REGISTRY", "SCOPES", "SECTIONS", "ActionDef", "Condition", "PolicyDef",
           "PolicyError", "PolicyNotFound", "PolicyQuery", "PolicySet", "PolicyStore", "UnsupportedActions",
           "action_def", "build_policy", "catalogued", "definitions"]
