"""The bundled data's index: what `bot data list` shows, checked against the files, read without pandas."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from botnft.data import bundle


@pytest.mark.parametrize("name", list(bundle.DATASETS))
def test_the_index_states_each_bundled_files_rows_and_span_as_the_file_holds_them(name):
    ds = bundle.DATASETS[name]
    frame = pd.read_csv(ds.path)
    entry = json.loads(bundle.INDEX.read_text())[name]
    assert entry["file"] == ds.file and entry["bytes"] == ds.path.stat().st_size
    assert entry["rows"] == len(frame)
    if ds.kind == "reference":
        assert (entry["first"], entry["last"]) == (frame["date"].min(), frame["date"].max())
    else:
        times = frame["open_time" if ds.kind == "candles" else "funding_time"]
        assert (entry["first"], entry["last"]) == (times.iloc[0], times.iloc[-1])


def test_the_listing_matches_the_bundled_readme():
    info = {i.dataset.name: i for i in bundle.listing()}
    assert (info["sol-spot-1h"].rows, info["sol-spot-1h"].first) == (50_489, "2020-08-11T06:00:00Z")
    assert (info["sol-perp-mark-1h"].rows, info["sol-perp-mark-1h"].last) == (20_794, "2026-05-16T09:00:00Z")
    assert (info["sol-funding"].rows, info["drift-funding-daily"].rows) == (2_688, 219)
    assert (info["drift-funding-daily"].first, info["drift-funding-daily"].last) == (
        "2026-01-10",
        "2026-03-23",
    )
    assert list(info) == list(bundle.DATASETS)


def test_listing_imports_neither_pandas_nor_numpy():
    code = (
        "import sys\nfrom botnft.data import bundle\nbundle.listing()\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_index_is_trusted_while_sizes_match_and_a_changed_file_is_measured_again(tmp_path):
    index = json.loads(bundle.INDEX.read_text())
    index["sol-funding"]["rows"] = 7  # a lie the listing cannot see: the size still matches
    index["sol-perp-1h"]["rows"] = 7
    index["sol-perp-1h"]["bytes"] += 1  # as if the file had been replaced
    stale = tmp_path / "index.json"
    stale.write_text(json.dumps(index))
    info = {i.dataset.name: i for i in bundle.listing(stale)}
    assert info["sol-funding"].rows == 7
    assert info["sol-perp-1h"].rows == 20_795 and info["sol-perp-1h"].last == "2026-05-16T10:00:00Z"


def test_a_missing_index_falls_back_to_measuring_every_file(tmp_path):
    info = bundle.listing(tmp_path / "none.json")
    assert [i.rows for i in info] == [50_489, 20_795, 20_794, 2_688, 219]
