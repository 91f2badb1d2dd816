"""Settings for one fetch. Defaults suit a nightly run; tests shrink the timeouts and backoff."""
import dataclasses
import math
import os
from typing import Callable, Optional

from ..errors import UserError

USER_AGENT = "MHCLG Planning Data Collector"
MAX_BYTES = 2 * 1024**3  # 2 GiB: larger bodies are logged as failures, never kept
READ_TIMEOUT = 120.0  # seconds without a byte, as upstream
CONNECT_TIMEOUT = 30.0
DEADLINE = 300.0  # seconds for a whole download (one GET: connection, redirects, headers and body)
DEADLINE_VARIABLE = "COLLECT_DEADLINE"


@dataclasses.dataclass
class Options:
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    deadline: float = DEADLINE  # a server dripping bytes within read_timeout is still cut off here
    retries: int = 3  # extra attempts after a 5xx or a dropped connection
    backoff: float = 1.0  # seconds before the first retry, doubling each time
    max_bytes: int = MAX_BYTES
    max_redirects: int = 10
    user_agent: str = USER_AGENT
    progress: Optional[Callable[[int], None]] = None  # called with the byte count as a body arrives

    def replace(self, **changes):
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def deadline_setting(value=None, environ=None):
    """The deadline in seconds: value (--deadline) if given, else $COLLECT_DEADLINE, else None (the default).

    A value that is not a positive number is a UserError naming where it came from.
    """
    where = "--deadline"
    if value is None:
        value = (os.environ if environ is None else environ).get(DEADLINE_VARIABLE, "").strip()
        where = DEADLINE_VARIABLE
        if not value:
            return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (seconds > 0 and math.isfinite(seconds)):
        raise UserError(f"{where} must be a positive number of seconds, not {value!r}")
    return seconds
