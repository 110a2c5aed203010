"""How a failure reads: one line, and a database URL whose password never shows."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import assume, given
from hypothesis import strategies as st

from photon_archive.headlines import HIDDEN, first_line, hidden_password, one_line, retried

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
_passwords = st.text(min_size=1, max_size=30).filter(lambda text: text.strip() == text)


@given(
    scheme=st.sampled_from(["postgresql", "postgresql+psycopg2", "mysql+pymysql"]),
    user=_names,
    password=_passwords,
    host=st.sampled_from(["127.0.0.1", "db.example.org", "my-rds-host"]),
    port=st.integers(min_value=1, max_value=65535),
    database=_names,
    encoded=st.booleans(),
    query=st.sampled_from(["", "?sslmode=require", "?connect_timeout=5"]),
)
def test_the_password_of_a_database_url_never_appears(
    scheme: str, user: str, password: str, host: str, port: int, database: str, encoded: bool, query: str
) -> None:
    written = quote(password, safe="") if encoded else password
    assume("?" not in written)  # an unencoded "?" in a password is no URL any driver parses
    url = f"{scheme}://{user}:{written}@{host}:{port}/{database}{query}"
    rest = f"{scheme}://{user}:@{host}:{port}/{database}{query}"
    assume(written not in rest)

    shown = hidden_password(url)

    assert written not in shown
    assert shown == f"{scheme}://{user}:{HIDDEN}@{host}:{port}/{database}{query}"


def test_a_url_without_a_password_is_shown_as_it_is() -> None:
    for url in (
        "sqlite:////srv/state/catalog.sqlite",
        "postgresql://archive@db/photon_archive",
        "postgresql://db:5432/photon_archive",
        "not a url",
    ):
        assert hidden_password(url) == url


@given(st.text())
def test_one_line_has_no_line_break_and_keeps_every_word(text: str) -> None:
    line = one_line(text)

    assert len(line.splitlines()) == 1
    assert line.split() == (text.split() or ["(no", "message)"])


def test_the_first_line_of_a_driver_error_leaves_its_sql_out() -> None:
    said = '\n(psycopg2.errors.UndefinedTable) relation "images" does not exist\n[SQL: SELECT * FROM images]'

    assert first_line(said) == '(psycopg2.errors.UndefinedTable) relation "images" does not exist'
    assert first_line(" \n ") == "(no message)"


def test_a_step_that_failed_for_good_says_how_often_it_was_retried() -> None:
    assert retried("catalog database x is unavailable for now", 3) == (
        "catalog database x is unavailable for now; retried 3 times"
    )
