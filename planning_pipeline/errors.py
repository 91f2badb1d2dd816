"""Errors a user can fix. bin/ scripts report them as one line, never as a traceback."""


class UserError(Exception):
    """A bad command line, configuration or input file, described in one line."""

    def __init__(self, message, path=None, line=None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
