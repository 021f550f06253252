"""caseload: assign, rebalance and audit the crimes each police officer holds."""

__version__ = "0.1.0"
