"""The shipped instruments: REDCap data dictionaries, installed by ``cohort init``."""
