"""Excel and CSV import/export of village rosters (花名册) and quarterly income (收入表)."""
