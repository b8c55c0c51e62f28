"""Who reaches the interoperability APIs, and who among them sees identifiers.

A midwife sees her own site's participants (``cohort.access``), identifiers included; a
data manager sees everyone's. Governance reads FHIR consents without identifiers.
Researchers never reach either API: their data leave through extracts, pseudonymised.
"""

from cohort.models import User

REDCAP_ROLES = ("midwife", "data_manager")
FHIR_ROLES = ("midwife", "data_manager", "governance")
IDENTIFIER_ROLES = ("midwife", "data_manager")


def sees_identifiers(user: User) -> bool:
    return user.role in IDENTIFIER_ROLES
