"""The one exception type for errors a user can cause."""


class MoviolaError(Exception):
    """A problem with the user's input, parameters, paths or models.

    Front ends print ``str(error)`` as one line (the CLI exits with code 2); it is never a bug.
    The text is kept to one line whatever it quotes: line breaks and other control characters
    (from a file name or a value given) are shown escaped.
    """

    def __str__(self) -> str:
        text = super().__str__()
        if text.isprintable():
            return text
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
