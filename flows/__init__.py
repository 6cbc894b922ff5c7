"""Prefect flows of opendata-sofia; installed as the package `opendata_sofia_flows`."""

from opendata_sofia.security.redaction import install_log_redaction

# Prefect's run loggers and ours see tokens in exception texts and URLs: mask them everywhere.
install_log_redaction()
