"""What counts as an invisible control character in typed text."""

import pytest

from cohort.control_characters import has_control


@pytest.mark.parametrize("text", ["Kh\x00an", "a\x1bb", "del\x7f", "NEL\x85", "csi\x9b"])
def test_nul_escapes_delete_and_c1_controls_are_control_characters(text):
    assert has_control(text)


@pytest.mark.parametrize("text", ["Aisha Khan", "line\nbreak\r\n", "tab\there", "Zoë نام"])
def test_typed_text_with_tabs_line_breaks_and_any_script_is_not(text):
    assert not has_control(text)
