"""patch.csv: replace values. A pattern equal to the value matches literally; otherwise it is a
case-insensitive regular expression matched at the start, and the replacement may use \\1 groups.
A field's own patches are tried before the patches for every field (blank field); the first match
wins. Each change is logged as a `patch` issue whose value is the original."""
import re


class Patch:
    def __init__(self, patches, issues):
        self.issues = issues
        self.compiled = {}
        for field, rules in patches.items():
            compiled = []
            for pattern, replacement, row in rules:
                try:
                    regex = re.compile(pattern, re.IGNORECASE)
                except re.error:
                    regex = None  # still usable as a literal
                compiled.append((pattern, replacement, regex))
            self.compiled[field] = compiled
        self.everywhere = self.compiled.get("", [])
        self.plans = {}

    def plan(self, field):
        plan = self.plans.get(field)
        if plan is None:
            plan = self.plans[field] = (self.compiled.get(field, []) if field else []) + self.everywhere
        return plan

    def process(self, entries):
        if not self.compiled:
            return entries
        log = self.issues.log
        for entry in entries:
            row = entry.row
            for field, value in row.items():
                for pattern, replacement, regex in self.plan(field):
                    if value == pattern:
                        new = replacement
                    else:
                        match = regex.match(value) if regex is not None else None
                        if match is None:
                            continue
                        try:
                            new = match.expand(replacement)
                        except (re.error, IndexError):
                            new = replacement
                    if new != value:
                        row[field] = new
                        log(entry.line, entry.number, field, "patch", value, f"patched to {new!r}")
                    break
        return entries
