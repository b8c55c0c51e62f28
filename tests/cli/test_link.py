"""``cohort link``: sources, run (one or all), status, train and synthetic deliveries, as
an operator types them; refusals are one line with exit 2, trouble in a run exit 1."""

import pytest

from linkage_jobs import ground_truth, runner
from linkage_jobs.lock import source_lock
from tests.in_process_cli import run_cohort
from tests.linkage.linkage_world import make_world


@pytest.fixture
def linkage(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cohort.db'}"
    world = make_world(url, tmp_path / "var", mothers=40)
    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COHORT_DATABASE_URL", url)
    yield world
    world.instance.engine.dispose()


@pytest.fixture
def cohort(monkeypatch, capsys):
    return lambda *args: run_cohort(monkeypatch, capsys, "link", *args)


def test_sources_lists_every_spec_with_its_schedule(linkage, cohort):
    code, out, _ = cohort("sources")
    assert code == 0
    for name, spec in linkage.specs.items():
        assert f"{name}: {spec.title}" in out and f"'{spec.schedule}'" in out


def test_run_links_the_waiting_files_and_status_lists_the_run(linkage, cohort):
    linkage.deliver("maternity", rows=50)
    code, out, err = cohort("run", "maternity")
    assert code == 0, err
    assert "maternity: maternity_7.csv: succeeded: 50 read, 0 rejected" in out
    code, out, _ = cohort("status")
    assert code == 0 and "maternity" in out and "succeeded" in out
    code, out, _ = cohort("run", "maternity")
    assert "maternity: no files waiting in inbox/maternity" in out


def test_run_all_exits_1_when_a_file_is_quarantined(linkage, cohort):
    inbox = linkage.places("gp_registrations").inbox
    inbox.mkdir(parents=True)
    (inbox / "gp.csv").write_text("")
    code, out, err = cohort("run", "--all")
    assert code == 1
    assert "gp_registrations: gp.csv: quarantined: the file is empty" in err
    assert "maternity: no files waiting" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name one SOURCE or give --all"),
        (("maternity", "--all"), "name one SOURCE or give --all"),
        (("nowhere",), "no source named 'nowhere': the sources are"),
    ],
)
def test_run_refuses_a_wrong_choice_in_one_line(linkage, cohort, args, message):
    code, out, err = cohort("run", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_a_source_already_running_is_reported_and_left_alone(linkage, cohort):
    path, _ = linkage.deliver("maternity", rows=30)
    with source_lock(linkage.instance.engine, "maternity"):
        code, _, err = cohort("run", "maternity")
    assert code == 0 and "maternity is already being linked" in err
    assert path.exists()


def test_train_needs_a_file_and_then_stores_a_model(linkage, cohort):
    code, _, err = cohort("train", "maternity")
    assert code == 2 and "no maternity file to train on" in err
    linkage.deliver("maternity", rows=50)
    code, out, err = cohort("train", "maternity")
    assert code == 0, err
    version = out.split("model ")[1].split()[0]
    assert (linkage.places("maternity").models / "maternity" / f"{version}.json").exists()


def test_status_with_no_runs_says_how_to_start(linkage, cohort):
    code, out, _ = cohort("status")
    assert code == 0 and "no linkage runs yet" in out


def test_synth_drops_a_file_in_every_inbox_and_the_truth_outside(linkage, cohort):
    code, out, err = cohort("synth", "--seed", "3", "--rows", "30")
    assert code == 0, err
    for name in linkage.specs:
        (file,) = linkage.places(name).inbox.iterdir()
        truth = ground_truth.path_for(linkage.instance.settings, name, runner.sha256_of(file))
        assert truth.exists() and f"{name}: 30 rows" in out
