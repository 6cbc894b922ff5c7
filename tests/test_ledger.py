from opendata_sofia.ledger import DatasetResult, Ledger


def test_ledger_latest_and_last_published(tmp_path):
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    first = ledger.start_run(target="local", trigger="manual", pipeline_version="0")
    ledger.record(first, "local", DatasetResult(dataset="a", organization="so-iot", status="published", rows=3))
    ledger.record(first, "local", DatasetResult(dataset="b", organization="so-iot", status="invalid", errors=2))
    second = ledger.start_run(target="local", trigger="manual", pipeline_version="0")
    ledger.record(second, "local", DatasetResult(dataset="a", organization="so-iot", status="invalid", errors=1))
    ledger.record(second, "ckan", DatasetResult(dataset="b", organization="so-iot", status="published"))

    latest = ledger.latest_results("local")
    published = ledger.last_published("local")

    assert latest["a"]["status"] == "invalid"
    assert latest["b"]["status"] == "invalid"
    assert set(published) == {"a"}
    assert published["a"]["run_id"] == first
    assert set(ledger.last_published("ckan")) == {"b"}
    assert [r["dataset"] for r in ledger.run_results(second)] == ["a", "b"]
