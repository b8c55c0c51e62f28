"""Linkage of partner datasets to the consented cohort (see README.md)."""

from linkage_jobs.match import link

__all__ = ["link"]
