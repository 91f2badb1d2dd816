"""Settings for one fetch. Defaults suit a nightly run; tests shrink the timeouts and backoff."""
import dataclasses
from typing import Callable, Optional

USER_AGENT = "MHCLG Planning Data Collector"
MAX_BYTES = 2 * 1024**3  # 2 GiB: larger bodies are logged as failures, never kept
READ_TIMEOUT = 120.0  # seconds without a byte, as upstream
CONNECT_TIMEOUT = 30.0


@dataclasses.dataclass
class Options:
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    retries: int = 3  # extra attempts after a 5xx or a dropped connection
    backoff: float = 1.0  # seconds before the first retry, doubling each time
    max_bytes: int = MAX_BYTES
    max_redirects: int = 10
    user_agent: str = USER_AGENT
    progress: Optional[Callable[[int], None]] = None  # called with the byte count as a body arrives

    def replace(self, **changes):
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
