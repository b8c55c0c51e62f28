"""``cohort governance imd load`` as an operator uses it: the lookup replaced and
described, or a bad file refused in one line, exit code 2, nothing changed."""

import pytest


@pytest.fixture
def ready(cli):
    assert cli("init").returncode == 0
    return cli


def test_a_lookup_loads_and_says_what_it_holds(ready, tmp_path):
    path = tmp_path / "imd.csv"
    path.write_text("pcds,imd_decile\nBD5 0NA,1\nLS1 4AP,6\n", encoding="utf-8")
    loaded = ready("governance", "imd", "load", str(path))
    assert loaded.returncode == 0, loaded.stderr
    assert "deprivation lookup loaded: 2 postcodes from imd.csv (sha256 " in loaded.stdout
    assert "0 enrolled women's postcodes are in it" in loaded.stdout


def test_a_bad_file_is_refused_in_one_line(ready, tmp_path):
    path = tmp_path / "imd.csv"
    path.write_text("postcode,imd_decile\nBD5 0NA,0\n", encoding="utf-8")
    refused = ready("governance", "imd", "load", str(path))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert "line 2, column imd_decile: '0' is no decile 1 to 10" in refused.stderr
