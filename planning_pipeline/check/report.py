"""Problems found by the check, one line each."""
import dataclasses

DOCS = "docs/configuration.md"
ERROR, WARNING = "error", "warning"


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    path: str  # as shown: relative to the checked root
    line: int  # 0 for the file as a whole
    message: str
    anchor: str = ""  # the section of docs/configuration.md that gives the rule
    severity: str = ERROR

    def __str__(self):
        where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        kind = "warning: " if self.severity == WARNING else ""
        see = f" (see {DOCS}#{self.anchor})" if self.anchor else ""
        return f"{where}{kind}{self.message}{see}"


class Report:
    """Every problem of a run, each reported once."""

    def __init__(self):
        self._problems = set()
        self.files = 0

    def add(self, path, line, message, anchor="", severity=ERROR):
        self._problems.add(Problem(path, line or 0, message, anchor, severity))

    def error(self, path, line, message, anchor=""):
        self.add(path, line, message, anchor, ERROR)

    def warning(self, path, line, message, anchor=""):
        self.add(path, line, message, anchor, WARNING)

    @property
    def problems(self):
        """Sorted by file, then line, then message."""
        return sorted(self._problems, key=lambda p: (p.path, p.line, p.message, p.severity))

    @property
    def errors(self):
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self):
        return [p for p in self.problems if p.severity == WARNING]
