"""Progress toward the target, and the reports and indicators built from the ledger."""
