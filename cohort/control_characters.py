"""Invisible control characters: refused in any text a person types (a NUL byte,
above all, which PostgreSQL cannot store and SQLite stores silently). Tabs and line
breaks are typed; the C1 controls (U+0080 to U+009F) are only ever mis-decoded bytes."""

CONTROL = (
    {chr(code) for code in range(32)} - {"\t", "\n", "\r"}
    | {"\x7f"}
    | {chr(code) for code in range(0x80, 0xA0)}
)


def has_control(text: str) -> bool:
    return any(character in CONTROL for character in text)
