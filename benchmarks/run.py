"""Time frictionless-py, the pipeline's fast path and a raw pyarrow pass on generated registers.

Every measurement runs in a fresh Python process, which reports its wall time and its own
peak RSS (`ru_maxrss`). The parent prints medians of `--runs` runs and the ratios.

    python benchmarks/generate.py --rows 1000000
    python benchmarks/run.py --rows 100000 1000000 --runs 3
    python benchmarks/run.py --rows 5000000 --runs 3 --slow-runs 1

Steps measured on the same work CSV (normalised once per size, before timing):

- frictionless: frictionless-py `Resource.validate`, then CSV + JSON + Parquet written from
  frictionless' typed rows (`conversion.frictionless_convert`), as the pipeline did before;
- fast: `fastpath.find_errors` writing CSV + JSON + Parquet as it validates, then
  `fastpath.convert` moving them into place, as the pipeline does now;
- raw: pyarrow alone: stream the CSV as text, check the codes with a regex, cast the
  decimal-comma numbers and dd.mm.yyyy dates, write Parquet, CSV and JSON lines;
- normalise: read the source CSV and write the work CSV (`reading` + `normalise`).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
STEPS = ("frictionless", "fast", "raw", "normalise")


# Child: one measurement


def _resource_spec():
    sys.path.insert(0, str(HERE.parent))
    from tests.factories import make_resource

    spec = json.loads((DATA / "register.schema.json").read_text(encoding="utf-8"))
    return make_resource("register", schema=spec["schema"], locale=spec["locale"])


def _work_table(source: Path, work_dir: Path):
    from opendata_sofia.normalise import normalise
    from opendata_sofia.reading import ReadOptions, read_table

    table = read_table(source, ReadOptions(format="csv", encoding="utf-8", delimiter=";"))
    return normalise(table, _resource_spec(), "benchmark", work_dir)


def measure(step: str, source: Path, work_dir: Path, out_dir: Path) -> dict:
    """Run one step and return its wall time in seconds and the process's peak RSS in MB."""
    import pickle

    # Imported before the clock starts: the steps are timed, not the imports.
    import pyarrow.parquet  # noqa: F401

    from opendata_sofia import fastpath
    from opendata_sofia.conversion import frictionless_convert

    spec = _resource_spec()
    work = None
    if step != "normalise":
        work = pickle.loads((work_dir / "work.pickle").read_bytes())

    started = time.perf_counter()
    if step == "normalise":
        _work_table(source, work_dir / "again")
    elif step == "frictionless":
        report = work.frictionless_resource().validate(limit_errors=1000)
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type"])[:5]
        frictionless_convert(work, spec, out_dir)
    elif step == "fast":
        # As `validation.validate` and `conversion.convert` run it: validating stages the
        # outputs, converting adopts them.
        assert fastpath.find_errors(work, limit_errors=1000, stage_outputs=True) == []
        result = fastpath.convert(work, spec, out_dir)
        assert result.rows == work.row_count
    elif step == "raw":
        raw_pass(work.path, [f["name"] for f in work.schema["fields"]], out_dir)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb}


def raw_pass(path: Path, names: list[str], out_dir: Path) -> None:
    """Read, check and write with pyarrow alone: the floor any Arrow-based path can reach."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 20),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names}),
    )
    parquet = csv_writer = None
    with open(out_dir / "raw.json", "wb") as json_handle:
        for batch in reader:
            assert pc.all(pc.match_substring_regex(batch.column("reg_number"), "^[0-9]{8}$")).as_py()
            columns = {name: batch.column(name) for name in names}
            for name in ("area", "lat", "lon"):
                text = pc.replace_substring(pc.replace_substring(columns[name], " ", ""), ",", ".")
                columns[name] = pc.cast(text, pa.float64())
            columns["registered"] = pc.cast(pc.strptime(columns["registered"], "%d.%m.%Y", "s"), pa.date32())
            columns["active"] = pc.equal(columns["active"], "да")
            typed = pa.RecordBatch.from_pydict(columns)

            if parquet is None:
                parquet = pq.ParquetWriter(out_dir / "raw.parquet", typed.schema, compression="snappy")
                csv_writer = pacsv.CSVWriter(out_dir / "raw.csv", typed.schema)
            parquet.write_batch(typed)
            csv_writer.write_batch(typed)
            text_columns = [pc.cast(typed.column(name), pa.string()) for name in names]
            lines = pc.binary_join_element_wise(*text_columns, "\n")
            json_handle.write(lines.buffers()[2].to_pybytes())
    parquet.close()
    csv_writer.close()


# Parent: every measurement in its own process


def run_child(step: str, source: Path, work_dir: Path) -> dict:
    with tempfile.TemporaryDirectory(dir=DATA) as out_dir:
        command = [sys.executable, __file__, "--child", step, str(source), str(work_dir), out_dir]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.splitlines()[-1])


def prepare(rows: int) -> tuple[Path, Path]:
    source = DATA / f"register-{rows}.csv"
    if not source.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--rows", str(rows)], check=True)
    work_dir = DATA / f"work-{rows}"
    work_dir.mkdir(exist_ok=True)
    import pickle

    if not (work_dir / "work.pickle").exists():
        work = _work_table(source, work_dir)
        (work_dir / "work.pickle").write_bytes(pickle.dumps(work))
    return source, work_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000], help="table sizes in rows")
    parser.add_argument("--runs", type=int, default=3, help="runs per step and size; the median is reported")
    parser.add_argument("--slow-runs", type=int, default=None, help="runs of the frictionless and normalise steps (default: --runs)")
    parser.add_argument("--frictionless-max-rows", type=int, default=1_000_000, help="skip frictionless-py above this many rows")
    parser.add_argument("--child", nargs=4, metavar=("STEP", "SOURCE", "WORK_DIR", "OUT_DIR"), help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.child:
        step, source, work_dir, out_dir = options.child
        print(json.dumps(measure(step, Path(source), Path(work_dir), Path(out_dir))))
        return

    results = {}
    for rows in options.rows:
        source, work_dir = prepare(rows)
        for step in STEPS:
            runs = options.runs
            if step == "frictionless" and rows > options.frictionless_max_rows:
                continue
            if step in ("frictionless", "normalise"):
                runs = options.slow_runs or runs
            samples = [run_child(step, source, work_dir) for _ in range(runs)]
            results[(rows, step)] = {
                "seconds": statistics.median(sample["seconds"] for sample in samples),
                "peak_mb": max(sample["peak_mb"] for sample in samples),
                "runs": runs,
            }
            print(rows, step, results[(rows, step)], flush=True)

    print()
    print("| rows | step | runs | median s | peak RSS MB | fast / step |")
    print("|---:|---|---:|---:|---:|---:|")
    for (rows, step), result in results.items():
        fast = results[(rows, "fast")]["seconds"]
        ratio = f"{fast / result['seconds']:.3f}" if step != "normalise" else ""
        print(f"| {rows:,} | {step} | {result['runs']} | {result['seconds']:.2f} | {result['peak_mb']:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
