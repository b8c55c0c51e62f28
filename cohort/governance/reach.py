"""Who sees what on the dashboard: the site-lead rule.

A governance user with a site is that site's lead: every figure is of her site only, and
she sees her own midwives by name. A governance user without a site, and an
administrator, see the whole network (or any one site they pick) with midwives as codes
(``BRD-M03``), never names. A site lead asking for another site is refused.
"""

from dataclasses import dataclass

from cohort.models import User


@dataclass(frozen=True)
class Reach:
    site_id: int | None  # the only site this viewer sees; None: the whole network
    midwife_names: bool


def reach_of(user: User) -> Reach:
    if user.role == "governance" and user.site_id is not None:
        return Reach(site_id=user.site_id, midwife_names=True)
    return Reach(site_id=None, midwife_names=False)
