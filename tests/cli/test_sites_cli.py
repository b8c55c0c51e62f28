"""``cohort site add`` and ``cohort site list`` as an operator uses them."""

import pytest


@pytest.fixture
def ready(cli):
    assert cli("init").returncode == 0
    return cli


def test_add_then_list(ready):
    added = ready("site", "add", "rae", "Bradford Royal Infirmary")
    assert added.returncode == 0 and "site RAE added" in added.stdout
    ready("site", "add", "AIRE", "Airedale")
    listed = ready("site", "list")
    assert listed.stdout.splitlines() == ["AIRE\tAiredale", "RAE\tBradford Royal Infirmary"]


BAD = [
    (("site", "add", "R!", "Odd"), "site code must be"),
    (("site", "add", "RAE", " "), "site name is missing"),
    (("site", "add", "rae", "Duplicate"), "already exists"),
    (("site", "add", "RAE"), "Missing argument"),
]


def test_bad_arguments_say_one_line_exit_2_and_change_nothing(ready):
    ready("site", "add", "RAE", "Bradford Royal Infirmary")
    for args, words in BAD:
        result = ready(*args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert ready("site", "list").stdout.splitlines() == ["RAE\tBradford Royal Infirmary"]
