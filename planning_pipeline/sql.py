"""Names and values quoted into SQL text (sqlite and PostgreSQL quote them alike)."""


def identifier(name):
    """A table or column name: double quotes, doubled inside."""
    return '"' + name.replace('"', '""') + '"'


def literal(text):
    """A string value: single quotes, doubled inside."""
    return "'" + str(text).replace("'", "''") + "'"
