#!/bin/sh
# Installs report from a release: picks the archive of this machine, checks its SHA-256, and puts
# the binary in REPORT_INSTALL_DIR (default ~/.local/bin). In GitHub Actions the folder is added
# to GITHUB_PATH, so later steps find `report`.
#   curl -fsSL https://github.com/report-cli/report/releases/latest/download/report-installer.sh | sh
# REPORT_DOWNLOAD_URL: where the archives are (default: the latest release; file://… works too).
set -eu
base="${REPORT_DOWNLOAD_URL:-https://github.com/report-cli/report/releases/latest/download}"
dir="${REPORT_INSTALL_DIR:-$HOME/.local/bin}"
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-gnu ;;
  Darwin/arm64) target=aarch64-apple-darwin ;;
  Darwin/x86_64) target=x86_64-apple-darwin ;;
  *)
    echo "report-installer: no release for $(uname -s) $(uname -m); Windows: download report-x86_64-pc-windows-msvc.zip; elsewhere: cargo install --locked --git https://github.com/report-cli/report report" >&2
    exit 1
    ;;
esac
archive="report-$target.tar.gz"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "report-installer: $base/$archive" >&2
curl -fsSL "$base/$archive" -o "$tmp/$archive"
curl -fsSL "$base/$archive.sha256" -o "$tmp/$archive.sha256"
expected="$(cut -d ' ' -f 1 < "$tmp/$archive.sha256")"
if command -v sha256sum >/dev/null 2>&1; then
  actual="$(sha256sum "$tmp/$archive" | cut -d ' ' -f 1)"
else
  actual="$(shasum -a 256 "$tmp/$archive" | cut -d ' ' -f 1)"
fi
if [ "$expected" != "$actual" ]; then
  echo "report-installer: $archive has SHA-256 $actual, but $archive.sha256 says $expected: not installed" >&2
  exit 1
fi
tar -C "$tmp" -xzf "$tmp/$archive"
mkdir -p "$dir"
cp "$tmp/report-$target/report" "$dir/report"
chmod +x "$dir/report"
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dir" >> "$GITHUB_PATH"
fi
echo "report-installer: $("$dir/report" --version) installed in $dir" >&2
