#!/usr/bin/env sh
# Builds the leomodem_test SoapySDR module into OUTDIR (default: ./soapy_module_build):
#   tests/soapy_module/build.sh OUTDIR && SOAPY_SDR_PLUGIN_PATH=OUTDIR leomodem devices
# Needs g++ and libsoapysdr-dev (pkg-config SoapySDR).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-soapy_module_build}
mkdir -p "$out"
if ! pkg-config --exists SoapySDR; then
  echo "build.sh: SoapySDR development files not found (install libsoapysdr-dev)" >&2
  exit 1
fi
# Build to a temporary name and rename, so a concurrent loader never sees half a file.
tmp="$out/.libleomodem_test.so.$$"
${CXX:-g++} -std=c++17 -O2 -Wall -Wextra -fPIC -shared \
  $(pkg-config --cflags SoapySDR) \
  -o "$tmp" "$here/LeomodemTest.cpp" \
  $(pkg-config --libs SoapySDR)
mv -f "$tmp" "$out/libleomodem_test.so"
echo "$out/libleomodem_test.so"
