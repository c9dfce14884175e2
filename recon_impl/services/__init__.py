"""Use cases: each takes an open session (and values), applies domain rules, writes storage."""
