"""Interoperability: a REDCap-compatible API and FHIR R4 Consent resources over the
consent zone, and the consent backfill that both REDCap imports and the CLI go through."""
