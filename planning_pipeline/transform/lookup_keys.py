"""The lookup keys a transform asks for, and the lookup.csv rows that can answer them.

A transform reads lookup.csv only through lookup.Lookups.find: the entity lookup once or more for
each row, and the fact phase for each reference-field value. So of the general lookup rows a resource
reads (config.ResourceConfig.lookup_blocks), only those that can answer one of the keys its transform
asked can change its output; the others can be added, edited or removed without it. A resource's
configuration stamp (stamps.py) and the config-hash in its dataset-resource log hash only those rows
(plus every row scoped to the resource, and the old-entity chains of their entities), so entity
numbers that bin/assign-entities appends for a new resource's references re-transform no other
resource, while a row for a reference a resource has (one it could not find before, say) does.

Why that is enough: the keys a transform asks, in order, are a function of its inputs and of the
answers to the keys asked before (a "plan" reference not found is asked again under each plan
prefix, say). While the rows that can answer every key it asked are unchanged, each answer is, so by
induction the same keys are asked and answered the same way, and the output is the same. The keys
recorded by a resource's last transform are therefore enough to decide whether a change to
lookup.csv can change it.

Keys are recorded in both ways a transform can run (serial, or with a worker process running the
phases up to the entity lookup): from each row after the entity lookup (entries(): its prefix and
reference with its organisation, or with each of the resource's organisations and none when it has
none: every key lookup.LookupPhase can ask for it, and possibly more), and from every find of the fact
phase (RecordingLookups). The same keys either way, so the same config-hash.
"""
import os

from ..files import write_if_changed
from .keys import key_part, organisation_key


class Asked:
    """The keys asked: {(prefix, organisation, reference)} (organisation "": a key any row without an
    organisation answers), and the prefixes looked up by entry-number."""

    def __init__(self, organisations=()):
        self.keys = set()
        self.entry_prefixes = set()
        self.organisation_keys = sorted({organisation_key(o) for o in organisations} - {""})
        self._prefix_keys, self._organisation_keys = {}, {}

    def _prefix(self, prefix):
        key = self._prefix_keys.get(prefix)
        if key is None:
            key = self._prefix_keys[prefix] = key_part(prefix)
        return key

    def _organisation(self, organisation):
        key = self._organisation_keys.get(organisation)
        if key is None:
            key = self._organisation_keys[organisation] = organisation_key(organisation)
        return key

    def find(self, prefix, reference, organisation="", entry=None):
        """What Lookups.find(prefix, reference, organisation, entry) can read."""
        prefix = self._prefix(prefix)
        if entry is not None:
            self.entry_prefixes.add(prefix)
        reference = key_part(reference)
        if reference:
            organisation = self._organisation(organisation) if organisation else ""
            if organisation:
                self.keys.add((prefix, organisation, reference))
            self.keys.add((prefix, "", reference))

    def entries(self, entries):
        """Every key the entity lookup can have asked for these entries (rows just looked up)."""
        keys, organisations = self.keys, self.organisation_keys
        for entry in entries:
            row = entry.row
            prefix = self._prefix(row.get("prefix", ""))
            self.entry_prefixes.add(prefix)
            reference = key_part(row.get("reference", ""))
            if not reference:
                continue
            organisation = row.get("organisation", "")
            if organisation:
                keys.add((prefix, self._organisation(organisation), reference))
            else:
                for candidate in organisations:
                    keys.add((prefix, candidate, reference))
            keys.add((prefix, "", reference))

    def selects(self, row):
        """Whether a general lookup row can answer one of the keys asked (as lookup.Lookups reads rows)."""
        entity = (row.get("entity") or "").strip()
        if not entity.isdigit():
            return False
        prefix = key_part(row.get("prefix", ""))
        organisation = organisation_key(row.get("organisation", ""))
        reference = key_part(row.get("reference"))
        entry = (row.get("entry-number") or "").strip()
        if entry and not reference and not organisation:
            return prefix in self.entry_prefixes
        if reference:
            return (prefix, organisation, reference) in self.keys
        return False

    # --- the record kept beside a resource's configuration stamp ----------------------------------
    def text(self):
        lines = [f"entry,{p}" for p in sorted(self.entry_prefixes)]
        lines += [f"key,{p},{o},{r}" for p, o, r in sorted(self.keys)]
        return "".join(line + "\n" for line in lines)

    def write(self, path):
        """Write the record (only when it changed); returns whether it was written."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return write_if_changed(path, self.text())

    @classmethod
    def read(cls, path):
        """The record at path, or None if there is none (or it is unreadable: then every row counts)."""
        asked = cls()
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    parts = line.rstrip("\n").split(",")
                    if parts[0] == "entry" and len(parts) == 2:
                        asked.entry_prefixes.add(parts[1])
                    elif parts[0] == "key" and len(parts) == 4:
                        asked.keys.add((parts[1], parts[2], parts[3]))
                    else:
                        return None
        except (OSError, UnicodeDecodeError):
            return None
        return asked


class RecordingLookups:
    """A Lookups whose finds are recorded in an Asked (for the fact phase's reference lookups)."""

    def __init__(self, lookups, asked):
        self.lookups, self.asked = lookups, asked
        self.redirected = lookups.redirected
        self.retired = lookups.retired

    def find(self, prefix, reference, organisation="", entry=None):
        self.asked.find(prefix, reference, organisation, entry)
        return self.lookups.find(prefix, reference, organisation, entry)

    def __getattr__(self, name):
        return getattr(self.lookups, name)
