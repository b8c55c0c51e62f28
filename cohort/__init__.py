"""Birth-cohort consent and e-cohort platform."""
