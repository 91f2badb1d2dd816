"""endpoint.csv rows: finding one, checking its hash, and whether it is live on a day."""
import dataclasses
import datetime
import os
import re

from ..collection import endpoint_hash  # noqa: F401 (part of this module's interface)
from ..csvio import read_csv
from ..errors import UserError

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value):
    """A YYYY-MM-DD date from a date or date-time cell ('' for an empty cell); ValueError when malformed."""
    value = (value or "").strip()[:10]
    if value and not (DATE.match(value) and datetime.date.fromisoformat(value)):
        raise ValueError(value)
    return value


def not_live(row, date):
    """Why the endpoint is not collected on date (YYYY-MM-DD), or None when it is live.

    Live from its start-date (inclusive) until its end-date (exclusive), as upstream skips an
    endpoint once its end-date has begun.
    """
    start, end = parse_date(row.get("start-date")), parse_date(row.get("end-date"))
    if start and date < start:
        return f"starts {start}"
    if end and date >= end:
        return f"ended {end}"
    return None


@dataclasses.dataclass
class Endpoint:
    endpoint: str
    url: str
    plugin: str
    parameters: str
    row: dict
    path: str
    line: int

    def not_live(self, date):
        try:
            return not_live(self.row, date)
        except ValueError as error:
            raise UserError(f"endpoint {self.endpoint}: bad date {error}", self.path, self.line) from None


def find_endpoint(collection_dir, endpoint):
    """The endpoint's row in <collection_dir>/endpoint.csv (the last, if listed more than once)."""
    path = os.path.join(collection_dir, "endpoint.csv")
    if not os.path.exists(path):
        raise UserError("file not found", path)
    found = None
    for line, row in enumerate(read_csv(path, required=("endpoint", "endpoint-url")), start=2):
        if row["endpoint"].strip() == endpoint:
            found = (line, row)
    if found is None:
        raise UserError(f"unknown endpoint {endpoint}", path)
    line, row = found
    url = row["endpoint-url"].strip()
    if endpoint_hash(url) != endpoint:
        raise UserError(f"endpoint {endpoint} is not the sha256 of its endpoint-url {url!r} ({endpoint_hash(url)})", path, line)
    return Endpoint(endpoint, url, row.get("plugin", "").strip(), row.get("parameters", "").strip(), row, path, line)
