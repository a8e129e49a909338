#!/usr/bin/env bash
# Renders the pictures in the README from a real export of the June scenario:
# needs Debian's libreoffice-writer, libreoffice-calc, fonts-noto-cjk and poppler-utils.
#   bash docs/render.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run . demo --script testdata/june.txt --data "$tmp/data" >/dev/null
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
