"""The cohort's five-year age bands: one rule for a consent, a decline and a birth in the
maternity file, so the representativeness page compares like with like."""

AGE_BANDS = ((16, 19), (20, 24), (25, 29), (30, 34), (35, 39), (40, 50))


def band_of(age: int) -> str | None:
    """The band's code (the babi_consent instrument's ``age_band`` choices, e.g. ``25_29``);
    None outside the cohort's 16 to 50."""
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}_{high}"
    return None
