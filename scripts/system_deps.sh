#!/usr/bin/env bash
# The system programs the tests need, by their Debian packages: chromium (browser tests, PNG/PDF exports),
# poppler-utils (pdftoppm: PDF pages rendered to PNG) and a font with full Latin coverage (DejaVu).
# Installed with apt-get when missing and run as root; otherwise one line says what to install, exit 2.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${EUID:-$(id -u)}" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "make test needs ${missing[*]}: install them first (Debian/Ubuntu: sudo apt-get install -y --no-install-recommends ${missing[*]}), or run make test as root to have it done" >&2
  exit 2
fi
echo "make test: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
