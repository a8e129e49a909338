#!/usr/bin/env bash
# Renders the pictures in the README from a real export of the June scenario,
# played with phone-size photos (docs/photos writes them into the temp dir in
# place of the demo's tiny PNGs): needs Debian's libreoffice-writer,
# libreoffice-calc, fonts-noto-cjk and poppler-utils.
#   bash docs/render.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run ./docs/photos "$tmp/photos"
# The console reads media paths relative to the script: the copy's photos are
# photos/X.jpg and its files the ones in testdata, by absolute path. 东风社区
# sends a second photo in week 1, so that the 汇编 shows two photos in a row.
sed -e 's#^\([^:]*: /image \)\.\./console/demo/\(.*\)\.png$#\1photos/\2.jpg#' \
	-e "s#^\\([^:]*: /file \\)\\([^/].*\\)\$#\\1$PWD/testdata/\\2#" \
	-e '0,/^东风社区-张三: \/image photos\/消防演练.jpg$/s//&\n东风社区-张三: \/image photos\/入户检查.jpg/' \
	testdata/june.txt >"$tmp/june.txt"
if grep -q 'console/demo/' "$tmp/june.txt"; then
	echo "render.sh: an /image line of testdata/june.txt was not rewritten" >&2
	exit 1
fi
go run . demo --script "$tmp/june.txt" --data "$tmp/data" >/dev/null
go run . export --data "$tmp/data" --task 典型做法 --period 1 --out "$tmp/out" >/dev/null
cd "$tmp/out"
soffice --headless --convert-to pdf --outdir "$tmp/pdf" ./*.xlsx ./*.docx >/dev/null 2>&1
cd - >/dev/null
pdftoppm -png -r 60 -f 1 -l 3 "$tmp/pdf/报送统计表.pdf" "$tmp/workbook"
pdftoppm -png -r 60 -f 1 -l 2 "$tmp/pdf/本周典型做法、特色项目-第1期-汇编.pdf" "$tmp/report"

cp "$tmp"/workbook-1.png docs/workbook-summary.png
cp "$tmp"/workbook-2.png docs/workbook-2.png
cp "$tmp"/workbook-3.png docs/workbook-weekly.png
cp "$tmp"/report-1.png docs/report-1.png
[ -f "$tmp"/report-2.png ] && cp "$tmp"/report-2.png docs/report-2.png
