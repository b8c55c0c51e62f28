"""The research zone's rules: what may leave it (disclosure control), keyed by study ID
only. Nothing here may import the vault or the keys."""
