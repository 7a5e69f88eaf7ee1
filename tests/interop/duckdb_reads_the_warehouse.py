"""Another engine reads the warehouse: DuckDB with Hive partitioning sees every session, in
the files the commits name and (once `report compact --grace-minutes 0` has deleted what
compactions removed) in a glob over the folders.

Usage: python3 duckdb_reads_the_warehouse.py WAREHOUSE EXPECTED_SESSIONS
Exits non-zero, saying why, when DuckDB cannot read the files or the count is wrong.
"""
import json
import pathlib
import sys

import duckdb

warehouse = pathlib.Path(sys.argv[1])
expected = int(sys.argv[2])
committed = {}
for path in sorted((warehouse / "_commits").glob("*.json"), key=lambda p: int(p.stem)):
    commit = json.loads(path.read_text())
    for removed in commit.get("remove", []):
        committed.pop(removed, None)
    for added in commit["add"]:
        committed[added["path"]] = added
files = [str(warehouse / p) for p, f in sorted(committed.items()) if f["table"] == "sessions"]
con = duckdb.connect()
n, days, shells = con.execute(
    "SELECT count(*), count(DISTINCT date), count(DISTINCT attributes.shell) "
    "FROM read_parquet(?, hive_partitioning = true)",
    [files],
).fetchone()
glob_n = con.execute(
    f"SELECT count(*) FROM read_parquet('{warehouse}/sessions/*/*.parquet', hive_partitioning = true)"
).fetchone()[0]
print(f"duckdb: {n} sessions over {days} days, {shells} shells; glob sees {glob_n}")
if n != expected or glob_n != expected:
    sys.exit(f"duckdb: expected {expected} sessions, read {n} (commits) and {glob_n} (glob)")
if days < 90 or shells < 2:
    sys.exit("duckdb: the partition or struct columns did not come through")
