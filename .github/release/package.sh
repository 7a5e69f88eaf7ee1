#!/usr/bin/env bash
# Packages a built report binary for one target: OUT/report-TARGET.tar.gz (report-TARGET.zip on
# Windows) holding report (report.exe), README.md and the licence notice, plus its checksum
# OUT/report-TARGET.{tar.gz,zip}.sha256 in `sha256sum` format.
# Usage: package.sh TARGET BIN_DIR OUT
set -euo pipefail
target="$1" bin_dir="$2" out="$3"
cd "$(dirname "$0")/../.."
name="report-$target"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$out"
case "$target" in
  *windows*) exe=report.exe ;;
  *) exe=report ;;
esac
cp "$bin_dir/$exe" "$stage/$name/$exe"
cp README.md "$stage/$name/"
out="$(cd "$out" && pwd)"
case "$target" in
  *windows*)
    archive="$name.zip"
    (cd "$stage" && 7z a -tzip "$out/$archive" "$name" >/dev/null)
    ;;
  *)
    archive="$name.tar.gz"
    tar -C "$stage" -czf "$out/$archive" "$name"
    ;;
esac
if command -v sha256sum >/dev/null; then
  (cd "$out" && sha256sum "$archive" > "$archive.sha256")
else
  (cd "$out" && shasum -a 256 "$archive" > "$archive.sha256")
fi
echo "packaged $out/$archive"
