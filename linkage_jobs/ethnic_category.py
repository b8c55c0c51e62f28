"""Partners' NHS ethnic category codes, as the cohort's ONS 2021 codes (the consent form's
``ethnicity`` choices in forms/instruments/babi_consent.csv), so births and consents are
counted in the same groups.

Source: NHS Data Dictionary, data element ETHNIC CATEGORY (the 16+1 categories of the
2001 census), https://www.datadictionary.nhs.uk/data_elements/ethnic_category.html. The
national code is the field's first character; a second character is for local use and
"must be able to be grouped consistently with the 16 main categories", so only the first
is read. Z is "not stated" (she was asked and chose not to say); 99 is "not known".

The 2001 categories are coarser than 2021's in two places, and the births are counted in
the nearest 2021 group: C (any other White background) includes Gypsy or Irish Traveller
and Roma, and S (any other ethnic group) includes Arab. Consents recorded in those groups
therefore have no births of their own to be compared with."""

NHS_TO_ONS_2021 = {
    "A": "white_british",
    "B": "irish",
    "C": "other_white",
    "D": "white_black_caribbean",
    "E": "white_black_african",
    "F": "white_asian",
    "G": "other_mixed",
    "H": "indian",
    "J": "pakistani",
    "K": "bangladeshi",
    "L": "other_asian",
    "M": "caribbean",
    "N": "african",
    "P": "other_black",
    "R": "chinese",
    "S": "other_ethnic_group",
    "Z": "not_stated",
}


def ons_2021(code: str | None) -> str | None:
    """The cohort's code for an NHS ethnic category; None when not known (99, blank, or a
    code the standard does not have)."""
    if not code:
        return None
    return NHS_TO_ONS_2021.get(code.strip()[:1].upper())
