"""The research store: study IDs and payloads only, written all or nothing, once per file."""

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from linkage_jobs import store
from linkage_jobs.spec import SourceSpec

AT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
SPEC = SourceSpec(
    name="clinic",
    title="Clinic",
    kind="health",
    subject="mother",
    format="csv",
    inbox="inbox/clinic",
    schedule="0 2 * * *",
    record_id="Visit_ID",
    identifiers={"NHS": "nhs_number"},
    payload={"Weight_g": "integer", "Seen": "date", "Smoker": "boolean", "Note": "string"},
)


def linked(*rows: tuple[str, str, int]) -> pd.DataFrame:
    """(study_id, record_key, weight) rows as the runner hands them over."""
    return pd.DataFrame(
        {
            "study_id": [r[0] for r in rows],
            "record_key": [r[1] for r in rows],
            "method": "exact",
            "match_probability": 1.0,
            "Weight_g": [r[2] for r in rows],
            "Seen": date(2026, 1, 2),
            "Smoker": False,
            "Note": "ok",
        }
    )


NO_PENDING = pd.DataFrame(columns=["pair_id", "study_id", "record_key", *SPEC.payload])


def write(path, sha: str, rows: pd.DataFrame, run_id: int = 1, pending=NO_PENDING):
    return store.write_run(
        path, SPEC, run_id=run_id, sha256=sha, linked=rows, pending=pending, linked_at=AT
    )


@pytest.fixture
def path(tmp_path):
    return tmp_path / "research.duckdb"


def test_a_run_writes_typed_payload_keyed_by_study_id(path):
    assert write(path, "a" * 64, linked(("BB-1", "k1", 3200), ("BB-2", "k2", 2900))) == 2
    table = store.read_table(path, "clinic")
    assert sorted(table["study_id"]) == ["BB-1", "BB-2"]
    assert table["Weight_g"].dtype == "int64"
    assert set(table["source"]) == {"clinic"} and set(table["method"]) == {"exact"}
    assert store.is_delivered(path, "a" * 64)
    assert "linkage.deliveries" in store.table_names(path)


def test_the_same_file_twice_adds_nothing_twice(path):
    rows = linked(("BB-1", "k1", 3200))
    write(path, "a" * 64, rows)
    assert write(path, "a" * 64, rows, run_id=2) is None
    assert len(store.read_table(path, "clinic")) == 1


def test_a_record_delivered_again_replaces_its_earlier_row(path):
    write(path, "a" * 64, linked(("BB-1", "k1", 3200), ("BB-2", "k2", 2900)))
    write(path, "b" * 64, linked(("BB-1", "k1", 3300)), run_id=2)
    table = store.read_table(path, "clinic").set_index("record_key")
    assert len(table) == 2
    assert table.loc["k1", "Weight_g"] == 3300 and table.loc["k1", "run_id"] == 2


def test_a_crash_mid_write_leaves_no_partial_rows_and_the_next_run_completes(path, monkeypatch):
    write(path, "a" * 64, linked(("BB-0", "k0", 3000)))
    real = store._insert_chunk
    calls = []

    def crash_after_first_chunk(*args):
        calls.append(1)
        if len(calls) > 1:
            raise OSError("disk full")
        real(*args)

    monkeypatch.setattr(store, "CHUNK_ROWS", 2)
    monkeypatch.setattr(store, "_insert_chunk", crash_after_first_chunk)
    rows = linked(*((f"BB-{i}", f"k{i}", 3000 + i) for i in range(1, 6)))
    with pytest.raises(OSError):
        write(path, "b" * 64, rows, run_id=2)
    assert list(store.read_table(path, "clinic")["study_id"]) == ["BB-0"]
    assert not store.is_delivered(path, "b" * 64)

    monkeypatch.setattr(store, "_insert_chunk", real)
    assert write(path, "b" * 64, rows, run_id=3) == 5
    assert len(store.read_table(path, "clinic")) == 6


def test_a_spec_that_gains_a_payload_column_extends_its_table(path):
    write(path, "a" * 64, linked(("BB-1", "k1", 3200)))
    wider = SourceSpec(**{**SPEC.__dict__, "payload": {**SPEC.payload, "Parity": "integer"}})
    rows = linked(("BB-2", "k2", 2900)).assign(Parity=1)
    store.write_run(
        path, wider, run_id=2, sha256="b" * 64, linked=rows, pending=NO_PENDING, linked_at=AT
    )
    table = store.read_table(path, "clinic").set_index("study_id")
    assert table.loc["BB-2", "Parity"] == 1 and pd.isna(table.loc["BB-1", "Parity"])


def test_an_accepted_pending_pair_moves_into_the_source_table(path):
    pending = linked(("BB-9", "k9", 2500)).drop(columns=["method", "match_probability"])
    write(path, "a" * 64, linked(("BB-1", "k1", 3200)), pending=pending.assign(pair_id=7))
    assert len(store.read_table(path, "linkage.pending_clinic")) == 1
    moved = store.accept_pending(
        path, SPEC, pair_id=7, study_id="BB-C1", probability=0.7, run_id=1, linked_at=AT
    )
    assert moved == 1
    table = store.read_table(path, "clinic").set_index("record_key")
    assert table.loc["k9", "study_id"] == "BB-C1" and table.loc["k9", "method"] == "clerical"
    assert table.loc["k9", "Weight_g"] == 2500
    assert store.read_table(path, "linkage.pending_clinic").empty


def test_a_rejected_pending_pair_is_forgotten(path):
    pending = linked(("BB-9", "k9", 2500)).drop(columns=["method", "match_probability"])
    write(path, "a" * 64, linked(("BB-1", "k1", 3200)), pending=pending.assign(pair_id=7))
    store.drop_pending(path, SPEC, [7])
    assert store.read_table(path, "linkage.pending_clinic").empty


def test_purge_removes_every_row_of_the_participants_in_every_table(path):
    pending = linked(("BB-1", "k9", 2500)).drop(columns=["method", "match_probability"])
    rows = linked(("BB-1", "k1", 3200), ("BB-C1", "k2", 2900), ("BB-2", "k3", 3100))
    write(path, "a" * 64, rows, pending=pending.assign(pair_id=7))
    assert store.purge(path, ["BB-1", "BB-C1"]) == 3
    assert list(store.read_table(path, "clinic")["study_id"]) == ["BB-2"]
    assert store.read_table(path, "linkage.pending_clinic").empty


def test_purge_of_an_empty_store_is_nothing(path):
    assert store.purge(path, ["BB-1"]) == 0


def test_linked_tables_are_the_sources_with_rows(path):
    write(path, "a" * 64, linked(("BB-1", "k1", 3200)))
    with store.connect(path) as con:
        assert store.linked_tables(con) == {"clinic"}  # not the private schema's tables
        rows = con.execute(f"SELECT study_id FROM {store.source_table('clinic')}").fetchall()  # noqa: S608
    assert rows == [("BB-1",)]
