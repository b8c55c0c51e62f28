"""Linkage of partner datasets to the consented cohort (see README.md)."""
