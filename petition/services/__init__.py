"""The business rules, one module per capability. Each public function owns
one rule, commits its own transaction, and raises domain errors (never HTTP ones)."""
