"""The one exception type for errors a user can cause."""


class MoviolaError(Exception):
    """A problem with the user's input, parameters, paths or models.

    Front ends print ``str(error)`` as one line (the CLI exits with code 2); it is never a bug.
    """
