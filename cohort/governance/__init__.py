"""The governance dashboard's figures: consent rates, representativeness, withdrawals and
access, each an SQL aggregate over the consent zone and the audit trail. Study IDs, codes
and counts only: nothing here reads the identity vault."""
