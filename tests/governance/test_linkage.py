"""Linkage coverage per partner source: the consented participants each source's consent
item covers now and how many of them it has linked (per site), then runs in the period by
how they ended, rows read and linked, and the clerical queue waiting now."""

import csv
import io
import random
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, select
from sqlmodel import Session

from cohort.governance import approach_records, linkage
from cohort.governance.csv_export import table_csv
from cohort.governance.reach import Reach
from cohort.models import ClericalPair, LinkageRun, Participant
from cohort.research import holders, sample_world
from linkage_jobs.spec import load_specs
from tests.governance.seed import NETWORK, at, consents, march, period, rows_of, shown, withdraw

MOTHER = {"link_mother_health": True, "contact": True}
BABY = {"link_baby_health": True}
CONTACT_ONLY = {"contact": True}
SOURCES = {
    "birth_notifications",
    "childrens_social_care",
    "gp_registrations",
    "maternity",
    "school_census",
}
_deliveries = iter(range(1, 10_000))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "research.duckdb"


def run(source: str, outcome: str, read: int = 0, written: int = 0, when=None) -> LinkageRun:
    return LinkageRun(
        source=source,
        file_name="f.csv",
        file_sha256="0" * 64,
        outcome=outcome,
        rows_read=read,
        rows_written=written,
        started_at=when or at(3, 5),
    )


def ran(net, *runs: LinkageRun) -> None:
    with Session(net.engine) as s:
        s.add_all(runs or [run("maternity", "succeeded", 10, 10)])
        s.commit()


def study_ids(net, participant_ids: list[int]) -> list[str]:
    with Session(net.engine) as s:
        found = dict(
            s.exec(
                select(Participant.id, Participant.study_id).where(
                    Participant.id.in_(participant_ids)
                )
            ).all()
        )
    return [found[pid] for pid in participant_ids]


def link(store: Path, source: str, ids: list[str]) -> None:
    """One delivery of rows for these study IDs into the source's table."""
    when = datetime(2026, 3, 5, tzinfo=UTC).replace(microsecond=next(_deliveries))
    sample_world.link(store, source, pd.DataFrame({"study_id": ids}), linked_at=when)


def children(net, pairs: list[tuple[str, int]]) -> None:
    """(child study ID, mother's participant id)."""
    with Session(net.engine) as s:
        sample_world.add_children(s, pairs)
        s.commit()


def coverage(net, store: Path, filters=None, reach=NETWORK):
    with Session(net.engine) as s:
        return linkage.coverage(s, filters or march(), reach, store)


def test_nothing_shows_until_linkage_has_run(net, store):
    consents(net.engine, 3, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER)
    with Session(net.engine) as s:
        assert not linkage.any_runs(s)
    table = coverage(net, store)
    assert [label for label, _ in table.rows] == ["Total"]
    assert table.empty


def test_runs_by_source_and_outcome_with_the_share_of_rows_linked(net, store):
    with Session(net.engine) as s:
        s.add_all(
            [
                run("maternity", "succeeded", 100, 80),
                run("maternity", "quarantined"),
                run("education", "failed"),
                run("education", "succeeded", 50, 45, when=at(1, 5)),  # before the period
            ]
        )
        s.flush()
        s.add(
            ClericalPair(
                run_id=1,
                source="maternity",
                record_key="k",
                study_id="S",
                probability=0.5,
                comparison="{}",
            )
        )
        s.commit()
        assert linkage.any_runs(s)
    table = coverage(net, store, period(date(2026, 3, 1), date(2026, 3, 31)))
    rows = rows_of(table)
    # Every configured source has a row, and so does one that ran without a spec.
    assert rows.keys() == SOURCES | {"education", "Total"}
    # Consented, linked; runs, succeeded, quarantined, failed, rows read, rows linked, queue.
    assert rows["education"] == (0, 0, 1, 0, 0, 1, 0, 0, 0)
    assert rows["maternity"] == (0, 0, 2, 1, 1, 0, 100, 80, 1)
    assert rows["school_census"] == (0,) * 9
    assert rows["Total"] == (0, 0, 3, 1, 1, 1, 100, 80, 1)
    assert table.header[-2:] == ("Share of consented participants linked", "Share of rows linked")
    assert shown(table)["maternity"][-1] == "80.0%"
    assert shown(table)["education"][-1] == "No rows read"


def test_the_share_of_consented_mothers_a_source_has_linked(net, store):
    e = net.engine
    covered = study_ids(net, consents(e, 10, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER))
    not_covered = study_ids(
        net, consents(e, 2, site=net.a, by=net.anna, when=at(3, 2), items=CONTACT_ONLY)
    )
    withdrawn = consents(e, 2, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER)
    withdraw(e, withdrawn[0], "no_data", net.anna, at(3, 20))  # keeps what was linked
    withdraw(e, withdrawn[1], "no_contact", net.anna, at(3, 20))  # still covered
    ran(net)
    # 7 of the 10 covered, and rows of mothers outside the denominator or the cohort.
    link(store, "maternity", [*covered[:7], *not_covered, *study_ids(net, withdrawn[:1])])
    link(store, "maternity", [covered[0], "T9999999"])  # a second row of hers counts once
    table = coverage(net, store)
    rows, figures = rows_of(table), shown(table)
    assert rows["maternity"][:2] == (11, 7)  # the 10, and the one who stopped contact only
    assert figures["maternity"][-2] == f"{7 / 11 * 100:.1f}%"
    assert rows["gp_registrations"][:2] == (11, 0)  # the same item covers it: none linked yet
    assert figures["gp_registrations"][-2] == "0.0%"


def test_seventy_percent_of_ten_consented_mothers(net, store):
    e = net.engine
    covered = study_ids(net, consents(e, 10, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER))
    ran(net)
    link(store, "maternity", covered[:7])
    table = coverage(net, store)
    assert rows_of(table)["maternity"][:2] == (10, 7)
    assert shown(table)["maternity"][-2] == "70.0%"


def test_a_new_withdrawal_and_a_new_delivery_count_at_once(net, store):
    e = net.engine
    ids = consents(e, 10, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER)
    covered = study_ids(net, ids)
    ran(net)
    link(store, "maternity", covered[:7])
    assert rows_of(coverage(net, store))["maternity"][:2] == (10, 7)
    withdraw(e, ids[0], "full", net.anna, at(3, 20))  # one of the linked
    link(store, "maternity", covered[7:8])
    assert rows_of(coverage(net, store))["maternity"][:2] == (9, 7)


def test_a_child_source_counts_mothers_with_a_linked_child(net, store):
    e = net.engine
    mothers = consents(e, 4, site=net.a, by=net.anna, when=at(3, 2), items=BABY)
    other = consents(e, 1, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER)
    children(
        net,
        [
            ("C-1a", mothers[0]),  # twins, both linked: she counts once
            ("C-1b", mothers[0]),
            ("C-2", mothers[1]),  # linked
            ("C-3", mothers[2]),  # not linked
            ("C-9", other[0]),  # linked, but her consent does not cover her baby's records
        ],
    )  # mothers[3]: no child met yet
    ran(net)
    link(store, "birth_notifications", ["C-1a", "C-1b", "C-2", "C-9", "C-unknown"])
    link(store, "maternity", study_ids(net, mothers[2:3]))  # her own records: not her child's
    table = coverage(net, store)
    assert rows_of(table)["birth_notifications"][:2] == (4, 2)
    assert shown(table)["birth_notifications"][-2] == "50.0%"


def test_a_source_nobody_consented_to_shows_no_share(net, store):
    e = net.engine
    mothers = consents(e, 3, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER)
    children(net, [("C-1", mothers[0])])
    ran(net)
    link(store, "school_census", ["C-1"])  # her consent does not cover council records
    table = coverage(net, store)
    assert rows_of(table)["school_census"][:2] == (0, 0)
    assert shown(table)["school_census"][-2] == "No consented participants"
    assert shown(table)["Total"][:2] == ["6", "0"]  # maternity's 3 and GP registrations' 3


def test_a_site_lead_counts_her_own_sites_participants(net, store):
    e = net.engine
    at_a = study_ids(net, consents(e, 10, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER))
    at_b = study_ids(net, consents(e, 5, site=net.b, by=net.cara, when=at(3, 2), items=MOTHER))
    ran(net, run("maternity", "succeeded", 20, 12))
    link(store, "maternity", [*at_a[:7], *at_b])
    network = coverage(net, store)
    assert rows_of(network)["maternity"] == (15, 12, 1, 1, 0, 0, 20, 12, 0)
    assert shown(network)["maternity"][-2] == "80.0%"
    lead = Reach(site_id=net.a.id, midwife_names=True)
    own = coverage(net, store, march(net.a), lead)
    # Her site's participants; the partner file's runs and rows stay network-wide.
    assert rows_of(own)["maternity"] == (10, 7, 1, 1, 0, 0, 20, 12, 0)
    assert shown(own)["maternity"][-2] == "70.0%"
    # The reach decides even if the filter does not name her site.
    assert rows_of(coverage(net, store, march(), lead))["maternity"][:2] == (10, 7)
    picked = coverage(net, store, march(net.b))
    assert rows_of(picked)["maternity"][:2] == (5, 5)
    assert shown(picked)["maternity"][-2] == "100.0%"
    assert rows_of(coverage(net, store, march(net.c)))["maternity"][:2] == (0, 0)


def test_the_publishable_copy_protects_the_participant_counts(net, store):
    e = net.engine
    covered = study_ids(net, consents(e, 12, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER))
    ran(net, run("maternity", "succeeded", 40, 32))
    link(store, "maternity", covered[:9])
    table = coverage(net, store)
    rule = {"threshold": 7, "rounding": 5}
    plain = list(csv.reader(io.StringIO(table_csv(table, publishable=False, **rule))))
    assert plain[0][:3] == ["Source", "Consented participants", "Consented participants linked"]
    assert plain[0][-2:] == ["Share of consented participants linked", "Share of rows linked"]
    by_source = {row[0]: row[1:] for row in plain[1:]}
    assert by_source["maternity"][:2] == ["12", "9"]
    assert by_source["maternity"][-2] == "75.0%"
    published = list(csv.reader(io.StringIO(table_csv(table, publishable=True, **rule))))
    by_source = {row[0]: row[1:] for row in published[1:]}
    # Rounded to 5, the share worked out from the rounded counts.
    assert by_source["maternity"][:2] == ["10", "10"]
    assert by_source["maternity"][-2] == "100.0%"
    # GP registrations: 12 consented, none linked yet: a count at or below the threshold,
    # suppressed, and the share with it.
    assert by_source["gp_registrations"][1] == "suppressed"
    assert by_source["gp_registrations"][-2] == "suppressed"


COVERS = {
    "maternity": ("mother", "link_mother_health"),
    "gp_registrations": ("mother", "link_mother_health"),
    "birth_notifications": ("child", "link_baby_health"),
    "school_census": ("child", "link_council"),
    "childrens_social_care": ("child", "link_council"),
}
ITEMS = ("link_mother_health", "link_baby_health", "link_council", "contact")
LEVELS = ("no_contact", "no_data", "full")


class World:
    """Mothers written as the specs write them, and the same facts kept here plainly:
    her site, study ID, latest items, withdrawal levels and children."""

    def __init__(self, net, rng: random.Random):
        self.net, self.rng, self.mothers = net, rng, {}
        self.staff = [(net.a, (net.anna, net.beth)), (net.b, (net.cara,)), (net.c, (net.dora,))]
        self.rescoped = 0  # latest consents giving an item her first did not

    def items(self) -> dict[str, bool]:
        return {item: self.rng.random() < 0.6 for item in ITEMS}

    def enrol(self) -> int:
        site, staff = self.rng.choice(self.staff)
        given = self.items()
        midwife = self.rng.choice(staff)
        (pid,) = consents(self.net.engine, 1, site=site, by=midwife, when=at(3, 2), items=given)
        self.mothers[pid] = {
            "site": site,
            "by": midwife,
            "study_id": study_ids(self.net, [pid])[0],
            "items": given,
            "levels": [],
            "born": [],
        }
        return pid

    def rescope(self, pid: int, day: int) -> None:
        her, given = self.mothers[pid], self.items()
        row = approach_records.consent(
            pid, given, site_id=her["site"].id, recorded_by=her["by"].id, when=at(3, day)
        )
        with Session(self.net.engine) as s:
            approach_records.write(s.connection(), "consent", [row])
            s.commit()
        self.rescoped += any(given[i] and not her["items"][i] for i in ITEMS)
        her["items"] = given

    def withdraw(self, pid: int, level: str, day: int) -> None:
        withdraw(self.net.engine, pid, level, self.mothers[pid]["by"], at(3, day))
        self.mothers[pid]["levels"].append(level)

    def bear(self, pids: list[int]) -> None:
        born = []
        for pid in pids:
            child = f"K-{pid}-{len(self.mothers[pid]['born'])}"
            self.mothers[pid]["born"].append(child)
            born.append((child, pid))
        if born:
            children(self.net, born)

    def counted(self, linked: dict[str, set[str]], code: str | None) -> dict:
        """Per source (consented, linked), by the rule as the guide states it: her latest
        consent gives the source's item and she has not withdrawn at "no further data"
        or fully; linked if a row is hers (a child source: one of her children's)."""
        found = {}
        for source, (subject, item) in COVERS.items():
            held = [
                [her["study_id"]] if subject == "mother" else her["born"]
                for her in self.mothers.values()
                if (code is None or her["site"].code == code)
                and her["items"][item]
                and not {"no_data", "full"} & set(her["levels"])
            ]
            found[source] = (len(held), sum(1 for ids in held if linked[source] & set(ids)))
        return found


def test_the_counts_equal_a_straightforward_count_of_a_mixed_world(net, store):
    """Ninety mothers at three sites with every mix of items, later changes of scope,
    withdrawals at every level (some twice), children (twins too) and rows in all five
    sources, strangers' and the wrong subject's among them; then a day's more recording
    (new mothers, changes of scope, withdrawals, children, deliveries). Each time the
    table's two participant counts, network-wide and for each site, are those of
    counting the world as it was written."""
    rng = random.Random(6)
    world = World(net, rng)
    for _ in range(90):
        pid = world.enrol()
        for day in range(rng.choice((0, 0, 0, 1, 2))):
            world.rescope(pid, 3 + day)
        if rng.random() < 0.4:
            world.withdraw(pid, rng.choice(LEVELS), 20)
        if world.mothers[pid]["levels"] and rng.random() < 0.3:
            world.withdraw(pid, rng.choice(LEVELS), 25)
        world.bear([pid] * rng.choice((0, 1, 1, 1, 2)))
    ran(net)
    linked: dict[str, set[str]] = {source: set() for source in COVERS}

    def deliver() -> None:
        mothers = [her["study_id"] for her in world.mothers.values()]
        babies = [child for her in world.mothers.values() for child in her["born"]]
        for source, (subject, _) in COVERS.items():
            own, other = (mothers, babies) if subject == "mother" else (babies, mothers)
            rows = [i for i in own if i not in linked[source] and rng.random() < 0.5]
            link(store, source, [*rows, *rng.sample(other, 5), "X-stranger"])  # not counted
            link(store, source, rng.sample(rows, 4))  # second rows of hers: counted once
            linked[source] |= set(rows)

    def check() -> None:
        for site in (None, net.a, net.b, net.c):
            table = rows_of(coverage(net, store, march(site)))
            shown = {source: table[source][:2] for source in COVERS}
            assert shown == world.counted(linked, site.code if site else None), site

    deliver()
    check()
    # A day's recording: the table counts it at once.
    ids = list(world.mothers)
    for pid in rng.sample(ids, 10):
        world.rescope(pid, 28)
    for pid in rng.sample(ids, 8):
        world.withdraw(pid, rng.choice(LEVELS), 29)
    new = [world.enrol() for _ in range(6)]
    world.bear([*rng.sample(ids, 5), *new[:3]])
    check()
    deliver()
    check()
    # Mixed enough to tell the rule from a careless one: a latest consent giving an item
    # her first did not, a withdrawal from data of a consent that gives hers, a mother
    # only told not to be contacted, twins.
    everyone = world.mothers.values()
    assert world.rescoped
    assert any(
        {"no_data", "full"} & set(her["levels"]) and her["items"]["link_mother_health"]
        for her in everyone
    )
    assert any(her["levels"] == ["no_contact"] for her in everyone)
    assert any(len(her["born"]) == 2 for her in everyone)


def test_a_server_starting_reads_the_holders_ahead_so_the_first_request_finds_them_kept(net, store):
    consents(net.engine, 3, site=net.a, by=net.anna, when=at(3, 2), items=MOTHER)
    assert linkage.warm(net.engine) is None  # before linkage has run, nothing is read
    ran(net)
    mothers, kids = linkage.warm(net.engine)
    assert mothers.num_rows == 3
    items = linkage.covering_items(load_specs().values())
    with Session(net.engine) as s:
        kept = holders.current(s, items)
    assert kept[0] is mothers and kept[1] is kids


def test_a_warm_up_that_fails_is_one_log_line_and_the_server_goes_on(net, caplog):
    broken = create_engine("sqlite:////nonexistent/folder/cohort.db")
    linkage.warm_in_background(broken).join(timeout=30)
    (record,) = [r for r in caplog.records if r.name == linkage.log.name]
    assert record.getMessage() == "linkage coverage not read ahead: OperationalError"
