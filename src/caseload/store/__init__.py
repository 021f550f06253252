"""Storage: Core tables, the engine and its transactions, queries and migrations."""
