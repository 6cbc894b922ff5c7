"""Prefect flows of opendata-sofia; installed as the package `opendata_sofia_flows`."""
