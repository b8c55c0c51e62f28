"""Who joins against who was approached: shares of each group and the gap between them."""

from sqlmodel import Session

from cohort.governance import representativeness
from tests.governance.seed import NETWORK, at, consents, declines, march, shown


def test_an_under_reached_group_shows_a_negative_gap(net, published_form):
    e = net.engine
    consents(e, 60, site=net.a, by=net.anna, when=at(3, 2), ethnicity="white_british")
    consents(e, 20, site=net.a, by=net.anna, when=at(3, 2), ethnicity="pakistani")
    declines(e, 10, site=net.a, by=net.anna, when=at(3, 3), ethnicity="white_british")
    declines(e, 30, site=net.a, by=net.anna, when=at(3, 3), ethnicity="pakistani")
    with Session(e) as s:
        table = representativeness.by_ethnicity(s, march(), NETWORK)
    rows = shown(table)
    pakistani = rows["Asian, Asian British or Asian Welsh: Pakistani"]
    white = rows["White: English, Welsh, Scottish, Northern Irish or British"]
    # 20 of 80 consented (25%) against 50 of 120 approached (41.7%).
    assert pakistani == ["20", "30", "50", "25.0%", "41.7%", "-16.7"]
    assert white == ["60", "10", "70", "75.0%", "58.3%", "+16.7"]


def test_no_births_column_until_a_maternity_dataset_is_linked(net):
    with Session(net.engine) as s:
        assert representativeness.births_by(s, march(), "ethnicity") is None
