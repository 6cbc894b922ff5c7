"""Publish a dataset to CKAN: its organization, the dataset, one uploaded resource per output.

Publishing is idempotent. The dataset is found by its stable name and each resource by its
`sofia_key` field. A file whose sha256 equals the resource's `hash` is not uploaded again. A
changed file is uploaded into the same resource, so resource ids (and DataStore tables) are
kept. `ckan_metadata` defines where each catalog field goes and when the dataset is patched.

Each CSV output is also loaded into the DataStore table of its resource (`datastore.py`), typed
by the resource's Table Schema.

Order of writes: the dataset is created (when new), then resources are created or re-uploaded
and their DataStore tables loaded, resources whose key left the publication are deleted, and
the dataset metadata with its provenance is patched last, so the provenance on the portal
describes files that are there. A run that stops anywhere in between leaves every file that
was not yet replaced readable, and the next run finishes the work: the dataset is found by
name, resources by key (copies left by a lost response are deleted), and a DataStore table
is loaded again until its resource records the CSV's sha256.

Only actions present in both CKAN 2.11 and 2.12 are used. The integration tests pass against
CKAN 2.11.6 and 2.12.0.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import requests

from opendata_sofia.catalog import Organization
from opendata_sofia.errors import PublishError
from opendata_sofia.publishing.base import OutputFile, Publication, PublishResult
from opendata_sofia.publishing.ckan_client import CkanClient
from opendata_sofia.publishing.datastore import (
    CHUNK_ROWS,
    HASH_FIELD,
    DataStoreLoader,
    read_header,
    table_definition,
)
from opendata_sofia.publishing.ckan_errors import RETRYABLE, to_publish_error
from opendata_sofia.publishing.ckan_metadata import (
    KEY_FIELD,
    RESOURCE_FIELDS,
    content_differs,
    dataset_fields,
    merged_extras,
    organization_differs,
    organization_fields,
    resource_differs,
    resource_fields,
)

if TYPE_CHECKING:
    from opendata_sofia.plan import Snapshot

log = logging.getLogger(__name__)

# organization roles that may create and update datasets
PUBLISHING_ROLES = ("editor", "admin")


class CkanTarget:
    """A CKAN portal reached through its action API with an editor's API token.

    `admin_token` (a sysadmin's) is needed only to create organizations and to make the
    editor a member of them. Without it, a missing organization raises `PublishError`.
    `attempts` and `retry_delay` set the retries of connection errors, timeouts and HTTP 5xx.
    `datastore_chunk_rows` is the number of records sent per DataStore call.
    """

    name = "ckan"

    def __init__(
        self,
        url: str,
        token: str,
        *,
        admin_token: str | None = None,
        timeout: float = 60.0,
        attempts: int = 4,
        retry_delay: float = 1.0,
        datastore_chunk_rows: int = CHUNK_ROWS,
    ):
        self.url = url.rstrip("/")
        options = {"timeout": timeout, "attempts": attempts, "retry_delay": retry_delay}
        self._client = CkanClient(self.url, token, **options)
        self._admin = CkanClient(self.url, admin_token, **options) if admin_token else None
        self._admin_is_publisher = admin_token == token
        self._datastore = DataStoreLoader(self._client, chunk_rows=datastore_chunk_rows)

    def __repr__(self) -> str:
        return f"CkanTarget({self.url!r})"

    # Publishing

    def publish(self, publication: Publication) -> PublishResult:
        """Create or update the dataset and its resources; write nothing when nothing changed."""
        dataset = publication.dataset
        keys = [output.key for output in publication.files]
        if len(set(keys)) != len(keys):
            raise ValueError(f"output keys of {dataset.name} repeat: {keys}")

        owner_org = self._organization_id(dataset.organization, dataset.name)
        desired = dataset_fields(publication, owner_org)

        current = self._call("package_show", {"id": dataset.name}, dataset.name, missing_ok=True)
        created = current is None
        if created:
            current = self._create_dataset(desired)
            log.info("CKAN: created dataset %s (%s)", dataset.name, current["id"])

        # Resources and their DataStore tables
        changes = _ResourceChanges()
        existing = _resources_by_key(current.get("resources", []))
        for output in publication.files:
            matches = _best_first(existing.pop(output.key, []), output)
            changes.stale.extend(matches[1:])  # duplicates left by an interrupted earlier run
            resource = matches[0] if matches else None
            resource = self._sync_resource(current["id"], resource, output, publication, changes)
            self._sync_datastore(resource, output, publication, changes)
        for leftovers in existing.values():
            changes.stale.extend(leftovers)
        for resource in changes.stale:
            # CKAN drops the table of a deleted resource only when the database flags it as
            # datastore_active, and CKAN 2.11 can leave that flag False (see datastore.py)
            self._datastore.drop(resource["id"], dataset.name)
            self._call("resource_delete", {"id": resource["id"]}, dataset.name)
            changes.changed.append(resource[KEY_FIELD])
            log.info("CKAN: deleted resource %s (%s) of %s", resource[KEY_FIELD], resource["id"], dataset.name)

        # Order and metadata
        if changes.structure_changed:
            current = self._call("package_show", {"id": current["id"]}, dataset.name)
        reordered = self._keep_order(current, [changes.resource_ids[output.key] for output in publication.files])
        metadata_changed = not created and content_differs(current, desired)
        if metadata_changed or (not created and (changes.changed or reordered)):
            self._patch_dataset(current, desired)

        anything_changed = created or metadata_changed or reordered or bool(changes.changed)
        return PublishResult(
            status="published" if anything_changed else "unchanged",
            changed=changes.changed,
            url=f"{self.url}/dataset/{dataset.name}",
            details={
                "dataset_id": current["id"],
                "resource_ids": changes.resource_ids,
                "uploaded": changes.uploaded,
                "created": created,
                "metadata_changed": metadata_changed,
                "datastore": changes.datastore,
            },
        )

    def _sync_resource(
        self,
        package_id: str,
        resource: dict[str, Any] | None,
        output: OutputFile,
        publication: Publication,
        changes: "_ResourceChanges",
    ) -> dict[str, Any]:
        """Create, re-upload or patch the resource of `output`; return the resource as CKAN has it."""
        dataset = publication.dataset.name
        fields = resource_fields(output, publication.dataset)

        if resource is None:
            result = self._create_resource(package_id, fields, output, dataset)
            changes.record(output.key, result["id"], uploaded=True, created=True)
            log.info("CKAN: created resource %s (%s) of %s", output.key, result["id"], dataset)
            return result
        if resource.get("hash") != output.sha256:
            result = self._call("resource_patch", {"id": resource["id"], **fields}, dataset, upload=output)
            changes.record(output.key, resource["id"], uploaded=True)
            log.info("CKAN: uploaded a new %s into resource %s of %s", output.key, resource["id"], dataset)
            return result
        if resource_differs(resource, fields):
            result = self._call("resource_patch", {"id": resource["id"], **fields}, dataset)
            changes.record(output.key, resource["id"])
            log.info("CKAN: updated the metadata of resource %s (%s) of %s", output.key, resource["id"], dataset)
            return result

        changes.resource_ids[output.key] = resource["id"]
        return resource

    def _sync_datastore(
        self, resource: dict[str, Any], output: OutputFile, publication: Publication, changes: "_ResourceChanges"
    ) -> None:
        """Load a CSV output into the DataStore table of its resource; other formats have none."""
        if output.format != "CSV":
            return
        header = read_header(output.path)
        if not header:
            return

        spec = next((spec for spec in publication.dataset.resources if spec.name == output.resource), None)
        table = table_definition(spec.schema if spec else {}, header)
        new = output.key in changes.created
        load = self._datastore.sync(resource, output, table, publication.dataset.name, new=new)
        changes.datastore[output.key] = {"status": load.status, "rows": load.rows, "deleted": load.deleted}
        if load.status != "unchanged":
            changes.record(output.key, resource["id"])

    def _create_dataset(self, desired: dict[str, Any]) -> dict[str, Any]:
        name = desired["name"]

        def created_already() -> dict[str, Any] | None:
            return self._call("package_show", {"id": name}, name, missing_ok=True)

        return self._client.call("package_create", desired, dataset=name, recover=created_already)

    def _create_resource(self, package_id: str, fields: dict[str, Any], output: OutputFile, dataset: str) -> dict[str, Any]:
        def created_already() -> dict[str, Any] | None:
            package = self._call("package_show", {"id": package_id}, dataset)
            return next((r for r in package.get("resources", []) if r.get(KEY_FIELD) == output.key), None)

        return self._client.call(
            "resource_create",
            {"package_id": package_id, **fields},
            dataset=dataset,
            upload=output.path,
            upload_name=output.key,
            recover=created_already,
        )

    def _keep_order(self, package: dict[str, Any], ordered_ids: list[str]) -> bool:
        """Put the publication's resources first, in its order; return True if CKAN reordered."""
        current_ids = [resource["id"] for resource in package.get("resources", [])]
        others = [resource_id for resource_id in current_ids if resource_id not in ordered_ids]
        if current_ids == ordered_ids + others:
            return False

        self._call("package_resource_reorder", {"id": package["id"], "order": ordered_ids + others}, package["name"])
        log.info("CKAN: reordered the resources of %s", package["name"])
        return True

    def _patch_dataset(self, current: dict[str, Any], desired: dict[str, Any]) -> None:
        patch = {key: value for key, value in desired.items() if key != "name"}
        patch["id"] = current["id"]
        patch["extras"] = merged_extras(current, desired)
        patch["state"] = "active"
        self._call("package_patch", patch, current["name"])
        log.info("CKAN: updated the metadata of dataset %s (%s)", current["name"], current["id"])

    # Plan of changes

    def snapshot(self, publication: Publication) -> "Snapshot":
        """Read what CKAN holds for the dataset, for `opendata_sofia.plan`; writes nothing."""
        from opendata_sofia.plan import Snapshot

        dataset = publication.dataset
        package = self._call("package_show", {"id": dataset.name}, dataset.name, missing_ok=True)
        desired = dataset_fields(publication, dataset.organization.name)
        desired["organization"] = {"name": dataset.organization.name}
        desired["resource_fields"] = {
            output.key: {k: v for k, v in resource_fields(output, dataset).items() if k in RESOURCE_FIELDS and k != "hash"}
            for output in publication.files
        }
        desired["datastore"] = {output.key: output.sha256 for output in publication.files if output.format == "CSV"}
        return Snapshot(package=package, desired=desired, fetch_file=self.download)

    def download(self, resource: dict[str, Any], destination: Path) -> None:
        """Download a resource's file to `destination`, sending the token for private datasets."""
        headers = {"Authorization": self._client.token} if self._client.token else {}
        try:
            with requests.get(resource["url"], headers=headers, stream=True, timeout=self._client.timeout) as response:
                response.raise_for_status()
                with destination.open("wb") as stream:
                    for chunk in response.iter_content(1 << 20):
                        stream.write(chunk)
        except (requests.HTTPError, *RETRYABLE) as error:
            raise to_publish_error(
                error, url=self.url, action="download", dataset=resource.get("package_id", "-"),
                secrets=[self._client.token or ""],
            ) from error

    # Organizations

    def ensure_organizations(self, organizations: Iterable[Organization], *, editors: Iterable[str] | None = None) -> list[str]:
        """Create missing organizations, update changed ones, and make `editors` their editors.

        Uses the sysadmin token when one was given. `editors` defaults to the user of the
        publishing token when it differs from the sysadmin's. Returns the names created.
        """
        client = self._admin or self._client
        editor_names = list(editors) if editors is not None else self._publishing_users()

        created = []
        for organization in organizations:
            current = client.call(
                "organization_show",
                {"id": organization.name, "include_users": True, "include_datasets": False},
                dataset=organization.name,
                missing_ok=True,
            )
            fields = organization_fields(organization)
            if current is None:
                current = client.call("organization_create", fields, dataset=organization.name)
                created.append(organization.name)
                log.info("CKAN: created organization %s", organization.name)
            elif organization_differs(current, organization):
                client.call("organization_patch", {**fields, "id": current["id"]}, dataset=organization.name)
                log.info("CKAN: updated organization %s", organization.name)

            self._add_editors(client, current, editor_names)
        return created

    def _organization_id(self, organization: Organization, dataset: str) -> str:
        show = {"id": organization.name, "include_users": False, "include_datasets": False}
        found = self._call("organization_show", show, dataset, missing_ok=True)
        if found is not None:
            return found["id"]

        if self._admin is not None:
            self.ensure_organizations([organization])
            return self._call("organization_show", show, dataset)["id"]

        # An ordinary user may create organizations on portals that allow it; the others reject it.
        try:
            return self._call("organization_create", organization_fields(organization), dataset)["id"]
        except PublishError as error:
            if error.key != "ckan.not_authorized":
                raise
            raise PublishError(
                "ckan.organization_missing", organization=organization.name, url=self.url, dataset=dataset, target="ckan"
            ) from None

    def _publishing_users(self) -> list[str]:
        if self._admin is None or self._admin_is_publisher:
            return []

        # without an id, user_show returns the token's own user (seen on CKAN 2.11.6 and 2.12.0)
        user = self._client.call("user_show", {}, dataset="-")
        return [user["name"]]

    def _add_editors(self, client: CkanClient, organization: dict[str, Any], editors: list[str]) -> None:
        roles = {user["name"]: user.get("capacity") for user in organization.get("users", [])}
        for editor in editors:
            if roles.get(editor) in PUBLISHING_ROLES:
                continue
            client.call(
                "organization_member_create",
                {"id": organization["id"], "username": editor, "role": "editor"},
                dataset=organization["name"],
            )
            log.info("CKAN: made %s an editor of organization %s", editor, organization["name"])

    def _call(self, action: str, data: dict[str, Any], dataset: str, *, upload: OutputFile | None = None, missing_ok: bool = False) -> Any:
        return self._client.call(
            action,
            data,
            dataset=dataset,
            upload=upload.path if upload else None,
            upload_name=upload.key if upload else None,
            missing_ok=missing_ok,
        )


class _ResourceChanges:
    """The changes publishing made to the resources of one dataset."""

    def __init__(self) -> None:
        self.resource_ids: dict[str, str] = {}
        self.changed: list[str] = []
        self.uploaded: list[str] = []
        self.stale: list[dict[str, Any]] = []
        self.datastore: dict[str, dict[str, Any]] = {}
        self.created: list[str] = []

    def record(self, key: str, resource_id: str, *, uploaded: bool = False, created: bool = False) -> None:
        self.resource_ids[key] = resource_id
        if key not in self.changed:
            self.changed.append(key)
        if uploaded:
            self.uploaded.append(key)
        if created:
            self.created.append(key)

    @property
    def structure_changed(self) -> bool:
        """True when resources were created or deleted, so the package's resource list is stale."""
        return bool(self.created) or bool(self.stale)


def _best_first(resources: list[dict[str, Any]], output: OutputFile) -> list[dict[str, Any]]:
    """Order copies of one resource so the one that already has this file and its table is kept."""

    def score(resource: dict[str, Any]) -> int:
        return (resource.get("hash") == output.sha256) + (resource.get(HASH_FIELD) == output.sha256)

    return sorted(resources, key=score, reverse=True)


def _resources_by_key(resources: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        key = resource.get(KEY_FIELD)
        if key:
            by_key.setdefault(key, []).append(resource)
    return by_key
