import hashlib
import json

from opendata_sofia.publishing.local import LocalFolderTarget
from tests.factories import make_publication

CSV = "code,name,population\r\n01,Средец,31000\r\n02,Красно село,80000\r\n".encode()


def test_local_publish_writes_files_and_index(tmp_path):
    portal = tmp_path / "portal"
    result = LocalFolderTarget(portal).publish(make_publication(tmp_path, {"districts.csv": CSV}))

    assert result.status == "published"
    assert (portal / "test-rayoni" / "districts.csv").read_bytes() == CSV
    package = json.loads((portal / "test-rayoni" / "ckan.json").read_text(encoding="utf-8"))
    assert package["title"] == "Райони"
    assert {"key": "title_en", "value": "Districts"} in package["extras"]
    assert package["resources"][0]["hash"] == hashlib.sha256(CSV).hexdigest()
    index = (portal / "index.html").read_text(encoding="utf-8")
    assert '<strong id="count">1</strong>' in index
    assert "Райони" in index


def test_local_publish_twice_is_unchanged(tmp_path):
    portal = tmp_path / "portal"
    target = LocalFolderTarget(portal)
    first = target.publish(make_publication(tmp_path, {"districts.csv": CSV}))
    modified = (portal / "test-rayoni" / "ckan.json").stat().st_mtime_ns

    second = target.publish(make_publication(tmp_path, {"districts.csv": CSV}))

    assert first.status == "published"
    assert second.status == "unchanged"
    assert (portal / "test-rayoni" / "ckan.json").stat().st_mtime_ns == modified


def test_local_publish_keeps_resource_ids_on_change(tmp_path):
    portal = tmp_path / "portal"
    target = LocalFolderTarget(portal)
    target.publish(make_publication(tmp_path, {"districts.csv": CSV}))
    before = json.loads((portal / "test-rayoni" / "ckan.json").read_text(encoding="utf-8"))

    changed = CSV + "03,Възраждане,38000\r\n".encode()
    result = target.publish(make_publication(tmp_path, {"districts.csv": changed}))
    after = json.loads((portal / "test-rayoni" / "ckan.json").read_text(encoding="utf-8"))

    assert result.status == "published"
    assert result.changed == ["districts.csv"]
    assert after["resources"][0]["id"] == before["resources"][0]["id"]
    assert after["resources"][0]["hash"] != before["resources"][0]["hash"]
    assert (portal / "test-rayoni" / "districts.csv").read_bytes() == changed
    assert not list((portal / ".staging").iterdir())
