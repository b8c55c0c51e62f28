from tests.research.world import research  # noqa: F401  (the research world fixture)
