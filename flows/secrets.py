"""The CKAN API token, from the environment or a Prefect Secret block; never from a file in git."""

from __future__ import annotations

import os

from opendata_sofia.security.redaction import register_secret

SECRET_BLOCK = "ckan-api-token"


def resolve_ckan_token() -> str | None:
    """Return `CKAN_API_TOKEN`, else the value of the Prefect Secret block `ckan-api-token`."""
    token = os.environ.get("CKAN_API_TOKEN")
    if token:
        return token

    from prefect.blocks.system import Secret

    try:
        token = Secret.load(SECRET_BLOCK).get()
    except ValueError:  # the block does not exist on this Prefect server
        return None
    register_secret(token)  # masked in logs and messages like the environment's token
    return token
