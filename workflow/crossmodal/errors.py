"""The project's own error type: raised where the message is already the one line a user needs
(the file or key, what is wrong, the fix). ``runtime.run`` prints such an error as one line and
exits; any other exception keeps its traceback, since it is a bug to be read, not input to fix."""


class CrossmodalError(ValueError):
    """Bad input or a missing artifact, with a one-line message naming the file and the fix."""
