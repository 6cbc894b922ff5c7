"""Onboarding a new export: infer a starting schema and source description."""
