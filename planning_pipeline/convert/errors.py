"""The one exception a converter raises for a file it cannot turn into rows."""


class ConversionError(Exception):
    """A resource that cannot be converted; the message is one line fit for the converted-resource log."""

    def __init__(self, message):
        super().__init__(" ".join(str(message).split()))
