"""Who may do what: passwords, users and their roles, API tokens. No web imports here."""
