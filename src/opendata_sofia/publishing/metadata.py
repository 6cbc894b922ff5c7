"""The local folder portal's `ckan.json`: a package dict as CKAN's package_show would show it.

Field mapping and clean-up rules are those of `ckan_metadata`, so that a dataset reads the same
in the local portal and on CKAN.
"""

from __future__ import annotations

import uuid
from typing import Callable

from opendata_sofia.publishing import ckan_metadata
from opendata_sofia.publishing.base import OutputFile, Publication

# Resource ids in the local portal are derived from the dataset and resource key, so they stay
# the same from run to run, like CKAN's ids do.
RESOURCE_NAMESPACE = uuid.UUID("6f1b7c52-3b7e-4d55-9a0e-5d4f0c1e2a10")


def ckan_package(publication: Publication, resource_url: Callable[[OutputFile], str]) -> dict:
    """Return the whole package dict of `publication`, with `resource_url` giving each file's URL.

    Run provenance (run id, pipeline version) is left out: the local portal compares the whole
    dict to decide whether anything changed, and a new run id alone is no change.
    """
    dataset = publication.dataset
    package = ckan_metadata.dataset_fields(publication, owner_org=dataset.organization.name)
    package["extras"] = [
        extra for extra in package["extras"] if extra["key"] not in ckan_metadata.PROVENANCE_EXTRAS
    ]
    package["organization"] = {
        "name": dataset.organization.name,
        "title": dataset.organization.title["bg"],
        "title_en": dataset.organization.title["en"],
    }
    package["num_rows"] = dict(sorted(publication.row_counts.items()))
    package["resources"] = [
        {
            "id": str(uuid.uuid5(RESOURCE_NAMESPACE, f"{dataset.name}/{output.key}")),
            "url": resource_url(output),
            **ckan_metadata.resource_fields(output, dataset),
        }
        for output in publication.files
    ]
    return package
