"""Which consent item covers a source: the one rule linkage, clerical review and research
extracts share, kept apart from anything that decrypts identities.

| subject | kind    | item                | why |
|---------|---------|---------------------|-----|
| mother  | health  | link_mother_health  | her own health records |
| mother  | council | link_council        | council records about her |
| child   | health  | link_baby_health    | "my baby's records" |
| child   | council | link_council        | education, early years, social care: the child's |
"""

from linkage_jobs.spec import SourceSpec

COVERING_ITEM = {
    ("mother", "health"): "link_mother_health",
    ("mother", "council"): "link_council",
    ("child", "health"): "link_baby_health",
    ("child", "council"): "link_council",
}


def covering_item(spec: SourceSpec) -> str:
    return COVERING_ITEM[(spec.subject, spec.kind)]
