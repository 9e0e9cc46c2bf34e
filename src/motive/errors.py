"""The one error type users see: a single line naming the file, column or value and what to do.

The CLI turns a MotiveError into that line on stderr and exit status 2; anything else is a bug.
"""


class MotiveError(Exception):
    """Bad input or environment, explained in one line for the user."""
