"""Fuzzing the object-name grammar: whatever the key, ``parse_key`` parses it or rejects it with a
reason, and what it parses rebuilds the key it came from."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from photon_archive.naming import FileKind, ObjectName, decode_event_key, parse_key, thumbnail_key
from photon_archive_tests.fuzz.budget import fuzz, survives
from photon_archive_tests.test_naming import ALNUM, valid_keys

# Characters that sit on the grammar's edges: separators, look-alike digits and letters (Arabic-Indic
# and full-width digits, a Kelvin sign, a dotted capital I that lower-cases to two characters), the
# URL encoding of event keys, and bytes no name should hold.
EDGE_CHARACTERS = [*"-./_ +%0123456789aZ", "\u0660", "\uff11", "\u212a", "\u0130", "\x00", "\n", "\u00df"]
FRAGMENTS = ["-EX10.jpg", "-EX00.txt", ".fits.fz", ".bz2", ".", "-", "/", "20240229", "00000001", "%2F"]

edit_text = st.one_of(
    st.sampled_from(EDGE_CHARACTERS), st.sampled_from(FRAGMENTS), st.text(max_size=3), st.just("")
)
edits = st.lists(
    st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.integers(min_value=0), edit_text),
    min_size=1,
    max_size=4,
)


def edited(key: str, changes: list[tuple[str, int, str]]) -> str:
    """``key`` with each edit applied at its position (taken modulo the length at that point)."""
    for operation, position, text in changes:
        at = position % (len(key) + 1)
        if operation == "insert":
            key = key[:at] + text + key[at:]
        elif operation == "delete":
            key = key[:at] + key[at + max(len(text), 1) :]
        else:
            key = key[:at] + text + key[at + max(len(text), 1) :]
    return key


def rebuilt(name: ObjectName) -> str:
    """The key the parts spell, compression in the case the parser reports it."""
    compression = f".{name.compression}" if name.compression else ""
    return f"{name.prefix}/{name.base_filename}-{name.data_type}{name.reduction}.{name.ext}{compression}"


def parses_back(key: str) -> None:
    """Parse ``key``; what parses must spell the key again and keep the grammar's promises."""
    name = survives("naming", lambda: parse_key(key))
    if name is None:
        return
    if name.compression:
        assert key.lower().endswith(f".{name.compression}")
        assert rebuilt(name) == key[: -len(name.compression)] + name.compression
    else:
        assert rebuilt(name) == key
    assert name.site.isascii() and name.site.isalnum() and 3 <= len(name.site) <= 6
    assert name.counter.isascii() and name.counter.isdigit() and len(name.counter) == 8
    if name.makes_thumbnail:
        thumbnail = parse_key(thumbnail_key(name))
        assert thumbnail.kind is FileKind.THUMBNAIL_JPG
        assert thumbnail.base_filename == name.base_filename


@fuzz("naming")
@given(valid_keys(), edits)
def test_valid_keys_with_random_edits_parse_back_or_are_rejected(
    case: tuple[str, dict[str, object]], changes: list[tuple[str, int, str]]
) -> None:
    parses_back(edited(case[0], changes))


@fuzz("naming")
@given(st.text())
def test_arbitrary_text_either_parses_or_is_rejected_with_a_reason(key: str) -> None:
    parses_back(key)
    parses_back(decode_event_key(key))


name_alphabet = st.sampled_from(list(ALNUM[:6] + "0123456789-./_+%") + ["", "-EX10.jpg", ".fits.fz"])


@fuzz("naming")
@given(st.lists(name_alphabet, max_size=40).map("".join))
def test_near_miss_names_either_parse_or_are_rejected_with_a_reason(fragment: str) -> None:
    for key in (fragment, f"data/{fragment}", f"data/sro-kb001ms-{fragment}"):
        parses_back(key)
