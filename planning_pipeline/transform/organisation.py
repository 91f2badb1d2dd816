"""Organisations: resolve the ways a resource names its organisation to the organisation CURIE.

An instance holds its own tables (nothing is shared between instances). Recognised: the CURIE
itself (any case; local-authority-eng and local-authority prefixes interchangeable), the
opendatacommunities URI (http or https, with or without a trailing slash), the statistical
geography code, the wikidata item, and the OrganisationURI patterns of patch.csv.
"""
from ..csvio import read_csv


def _uri_key(value):
    value = value.strip().lower()
    for scheme in ("https://", "http://"):
        if value.startswith(scheme):
            value = value[len(scheme):]
            break
    return value.rstrip("/")


class Organisations:
    def __init__(self, path=None, rows=None, patches=()):
        self.row = {}
        self.names = {}
        for row in rows if rows is not None else read_csv(path, ("organisation",)):
            curie = row.get("organisation", "")
            if not curie:
                continue
            self.row[curie] = row
            self._add(curie, curie)
            if curie.startswith("local-authority-eng:"):
                self._add("local-authority:" + curie.split(":", 1)[1], curie)
            for column in ("opendatacommunities-uri", "statistical-geography", "wikidata"):
                if row.get(column):
                    self._add(row[column], curie)
        # upstream also treats OrganisationURI patches as names of organisations
        for pattern, value in patches:
            target = self.lookup(value)
            if pattern and target:
                self._add(pattern, target)

    def _add(self, name, curie):
        self.names.setdefault(_uri_key(name), curie)

    def lookup(self, value):
        """The organisation CURIE value names, or ""."""
        if not value:
            return ""
        return self.names.get(_uri_key(value), "")
