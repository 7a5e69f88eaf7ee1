"""Another engine reads a warehouse in a bucket: pyarrow, through pyarrow.fs.S3FileSystem,
reads the files the commits name (as any reader should: a folder may also hold files a
compaction removed, until the grace period is over) and counts every session.

Usage: python3 pyarrow_reads_the_bucket.py ENDPOINT BUCKET PREFIX EXPECTED_SESSIONS
"""
import json
import sys

import pyarrow.dataset as ds
import pyarrow.fs as pafs

endpoint, bucket, prefix, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
scheme, host = endpoint.split("://", 1)
fs = pafs.S3FileSystem(
    endpoint_override=host,
    scheme=scheme,
    access_key="S3RVER",
    secret_key="S3RVER",
    region="us-east-1",
)
root = f"{bucket}/{prefix}"
commits = sorted(
    (i for i in fs.get_file_info(pafs.FileSelector(f"{root}/_commits")) if i.path.endswith(".json")),
    key=lambda i: int(i.base_name.split(".")[0]),
)
files = {}
for info in commits:
    with fs.open_input_stream(info.path) as f:
        commit = json.loads(f.read())
    for path in commit.get("remove", []):
        files.pop(path, None)
    for added in commit["add"]:
        files[added["path"]] = added
sessions = [f"{root}/{p}" for p, f in sorted(files.items()) if f["table"] == "sessions"]
dataset = ds.dataset(sessions, filesystem=fs, format="parquet", partitioning="hive",
                     partition_base_dir=f"{root}/sessions")
table = dataset.to_table(columns=["session_id", "date"])
days = len(set(table.column("date").to_pylist()))
print(f"pyarrow: {table.num_rows} sessions over {days} days in {len(sessions)} files of {len(commits)} commits")
if table.num_rows != expected:
    sys.exit(f"pyarrow: expected {expected} sessions, read {table.num_rows}")
if days < 90:
    sys.exit("pyarrow: the date partition did not come through")
