"""Write the generated policy-action tables into README.md (between the policy-actions
markers): ``python scripts/policy_actions_readme.py``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tesserad.daemon.manage_policy import actions_table

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"(<!-- policy-actions:begin -->\n).*?(<!-- policy-actions:end -->)", re.S)


def render(text: str) -> str:
    """``text`` with the tables between the markers replaced by the registry's."""
    return BLOCK.sub(lambda m: m.group(1) + actions_table(markdown=True) + "\n" + m.group(2), text)


if __name__ == "__main__":
    README.write_text(render(README.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
