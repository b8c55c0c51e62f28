"""Invisible control characters: refused in any text a person types (a NUL byte,
above all, which PostgreSQL cannot store and SQLite stores silently)."""

CONTROL = {chr(code) for code in range(32)} - {"\t", "\n", "\r"} | {"\x7f"}


def has_control(text: str) -> bool:
    return any(character in CONTROL for character in text)
