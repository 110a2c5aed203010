"""How a failure reads in the Dagster UI: one line naming the cause, fit to show anyone.

A step's failure headline names what failed (the catalog's URL, a bucket and key, a table, a queue)
and what it answered, in one line; the traceback, SQL and parameters go to the failure's metadata.
"""

from __future__ import annotations

HIDDEN = "***"


def hidden_password(url: str) -> str:
    """``url`` with the password of its user part, if any, written as ``***``.

    The user part ends at the last ``@`` before the query, so a password holding an ``@``, ``:``
    or ``/`` unencoded is hidden whole; a URL without a password is left alone.
    """
    scheme, separator, rest = url.partition("://")
    at = rest.partition("?")[0].rfind("@")
    if not separator or at == -1:
        return url
    user, colon, _password = rest[:at].partition(":")
    if not colon:
        return url
    return f"{scheme}://{user}:{HIDDEN}{rest[at:]}"


def one_line(text: str) -> str:
    """``text`` in one line: its runs of whitespace, line breaks among them, made single spaces."""
    return " ".join(text.split()) or "(no message)"


def first_line(text: str) -> str:
    """``text``'s first non-blank line, stripped: what a driver's error says before its SQL."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "(no message)")


def retried(headline: str, retries: int) -> str:
    """The headline of a step that failed for good after ``retries`` retries."""
    return f"{headline}; retried {retries} times"
