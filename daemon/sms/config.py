"""The ``[sms]`` section: where the script SMS provider finds its scripts."""

from __future__ import annotations

from dataclasses import dataclass

from tesserad.core.config import setting


@dataclass(frozen=True)
class SmsSection:
    script_directory: str = setting(
        "/etc/tesserad/scripts", "Directory of the executables the script SMS provider may run "
        "(SCRIPT names a file in it; nothing outside it runs).")
