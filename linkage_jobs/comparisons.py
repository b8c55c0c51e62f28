"""The Splink model's shape, in one table: what is compared, how closely, and which pairs
are looked at. Training fills in the m and u probabilities; everything else is here.

Each comparison is a list of levels, most to least alike; ``{c}_l`` / ``{c}_r`` are the
column on the cohort and partner side. ``tf`` marks levels whose weight is adjusted by how
common the value is (a shared "KHAN" says less than a shared "KOWALCZYK"). NHS numbers
appear only as ``nhs_hash``, their keyed hash.
"""

from typing import Any

# (comparison column, [(label, SQL condition, term-frequency adjusted), ...]); every
# comparison also has a null level first and an "all other" level last.
COMPARISONS: list[tuple[str, list[tuple[str, str, bool]]]] = [
    ("nhs_hash", [("same NHS number", "nhs_hash_l = nhs_hash_r", False)]),
    (
        "given_name",
        [
            ("same", "given_name_l = given_name_r", True),
            ("one slip", "jaro_winkler_similarity(given_name_l, given_name_r) >= 0.92", False),
            ("alike", "jaro_winkler_similarity(given_name_l, given_name_r) >= 0.80", False),
        ],
    ),
    (
        "family_name",
        [
            ("same", "family_name_l = family_name_r", True),
            (
                "shares a name (double-barrelled, hyphenated)",
                "contains(' ' || family_name_l || ' ', ' ' || family_name_r || ' ') "
                "OR contains(' ' || family_name_r || ' ', ' ' || family_name_l || ' ')",
                False,
            ),
            ("one slip", "jaro_winkler_similarity(family_name_l, family_name_r) >= 0.92", False),
            ("alike", "jaro_winkler_similarity(family_name_l, family_name_r) >= 0.80", False),
        ],
    ),
    (
        "date_of_birth",
        [
            ("same", "date_of_birth_l = date_of_birth_r", True),
            (
                "day and month swapped",
                "substr(date_of_birth_l, 1, 4) = substr(date_of_birth_r, 1, 4) "
                "AND substr(date_of_birth_l, 6, 2) = substr(date_of_birth_r, 9, 2) "
                "AND substr(date_of_birth_l, 9, 2) = substr(date_of_birth_r, 6, 2)",
                False,
            ),
            (
                "two of year, month and day the same",
                "(substr(date_of_birth_l, 1, 4) = substr(date_of_birth_r, 1, 4))::int "
                "+ (substr(date_of_birth_l, 6, 2) = substr(date_of_birth_r, 6, 2))::int "
                "+ (substr(date_of_birth_l, 9, 2) = substr(date_of_birth_r, 9, 2))::int = 2",
                False,
            ),
        ],
    ),
    (
        "postcode",
        [
            ("same", "postcode_l = postcode_r", True),
            (
                "same sector",
                "left(postcode_l, length(postcode_l) - 2) "
                "= left(postcode_r, length(postcode_r) - 2)",
                False,
            ),
            (
                "same district",
                "split_part(postcode_l, ' ', 1) = split_part(postcode_r, ' ', 1)",
                False,
            ),
        ],
    ),
    ("sex", [("same", "sex_l = sex_r", False)]),
]

COLUMNS = tuple(column for column, _ in COMPARISONS)
NHS = "nhs_hash"

# Pairs scored at prediction; a pair found by an earlier rule is not scored again. Each
# admits under half a million pairs for 100,000 mothers and a million-row file; a true
# match escapes them all only if its NHS number, postcode and birthday are all wrong.
BLOCKING_RULES = [
    "l.nhs_hash = r.nhs_hash",
    "l.date_of_birth = r.date_of_birth AND left(l.given_name, 2) = left(r.given_name, 2)",
    "l.date_of_birth = r.date_of_birth AND left(l.family_name, 2) = left(r.family_name, 2)",
    "l.postcode = r.postcode AND left(l.given_name, 1) = left(r.given_name, 1)",
    "l.postcode = r.postcode AND left(l.family_name, 1) = left(r.family_name, 1)",
    "l.given_name = r.given_name AND l.family_name = r.family_name "
    "AND left(l.date_of_birth, 7) = left(r.date_of_birth, 7)",
]
# Training blocks for m, by expectation maximisation. Pairs sharing an NHS number (almost
# all true matches) teach every other comparison. Pairs sharing names and birth month, or
# for a child's row (no given name or birthday of the mother's) a postcode and family
# initial, teach how often a true match's NHS number agrees: the first with pairs is used.
# The prior comes from pairs agreeing on NHS number and postcode, which find about
# PRIOR_RULE_RECALL of the matches.
NHS_BLOCK = BLOCKING_RULES[0]
NHS_TEACHING_BLOCKS = [BLOCKING_RULES[-1], BLOCKING_RULES[-2]]
PRIOR_RULE = "l.nhs_hash = r.nhs_hash AND l.postcode = r.postcode"
PRIOR_RULE_RECALL = 0.8


def settings() -> dict[str, Any]:
    """An untrained Splink settings dictionary for linking a partner file to the cohort."""
    return {
        "link_type": "link_only",
        "unique_id_column_name": "unique_id",
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule, "sql_dialect": "duckdb"} for rule in BLOCKING_RULES
        ],
        "comparisons": [_comparison(column, levels) for column, levels in COMPARISONS],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
    }


def _comparison(column: str, levels: list[tuple[str, str, bool]]) -> dict[str, Any]:
    null = {
        "sql_condition": f"{column}_l IS NULL OR {column}_r IS NULL",
        "label_for_charts": "missing",
        "is_null_level": True,
    }
    graded = [
        {"sql_condition": condition, "label_for_charts": label}
        | ({"tf_adjustment_column": column, "tf_adjustment_weight": 1.0} if tf else {})
        for label, condition, tf in levels
    ]
    other = {"sql_condition": "ELSE", "label_for_charts": "different"}
    return {
        "output_column_name": column,
        "comparison_description": column.replace("_", " "),
        "comparison_levels": [null, *graded, other],
    }
