#!/usr/bin/env bash
# Installs every build, run and test dependency of Chorus from Debian 12 packages.
# Idempotent: packages already present are skipped, so `make run` / `make test` can call it every time.
# Usage: scripts/install-deps.sh [--build-only]
set -euo pipefail

build_packages=(
  build-essential g++ cmake ninja-build pkg-config git
  libboost1.74-dev libboost-system1.74-dev   # Boost.Asio (+ssl) for transports; header-only mostly
  libssl-dev openssl                          # TLS transport, DTLS-SRTP, STUN MESSAGE-INTEGRITY
  libsrtp2-dev                                # the SRTP reference the tests and bench tools compare ours with (media/srtp/libsrtp_reference)
  nlohmann-json3-dev                          # JSON (REST, status)
  libyaml-cpp-dev                             # optional YAML config file
  libsqlite3-dev                              # the store (conference/store): rooms, meetings, keys; WAL + migrations
  libpq-dev                                   # the store's PostgreSQL backend (--store postgresql://…), shared by several nodes
  libc-ares-dev                               # asynchronous DNS: RFC 3263 NAPTR/SRV/A/AAAA for SIP trunks (signaling/ua/dns_sip_locator)
  dpkg-dev file                               # make package: CPack computes the .deb's dependencies with dpkg-shlibdeps
  libical-dev                                 # RFC 5545 RRULE expansion with time zones, .ics parse-back (conference/schedule)
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev  # the audio MCU's decode/encode pipeline (mixer/)
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav  # rtpjitterbuffer, depayloaders, Opus, G.711, G.722 (avenc/avdec_g722); compositor, VP8, x264, avdec_h264 (the video MCU)
  gstreamer1.0-x                              # textoverlay (Pango): the video MCU's name labels
  gstreamer1.0-plugins-bad                    # h264parse: H.264 recordings (mixer/recording) need it at run time, not only the tests
  libswscale-dev                              # the tile scaler's bicubic step: each source fitted into its tile without moiré (mixer/video/tile_scaler)
  espeak-ng                                   # speaks the IVR prompts into WAV files at build time (mixer/prompts)
  ccache                                      # compiler cache: rebuilds of unchanged sources are free (used when present)
  libgtest-dev libgmock-dev libbenchmark-dev  # unit tests and micro benchmarks
  liburing-dev                                # io_uring: a media worker sends a tick's datagrams in one system call (media/transport/send_batch)
  libopus-dev                                 # the audio MCU's Opus decoder (mixer/audio/opus_packet_decoder); bench/tools/mixer_load's frames
  libspandsp-dev                              # G.722 (ITU-T reference algorithm): the audio MCU's encoder (mixer/audio/g722), the oracle our decoder is tested against, mixer_load's
)
tool_packages=(
  clang-19 libclang-rt-19-dev                 # the sanitizer tree (make sanitize) and libFuzzer for fuzz/ (clang 19: libstdc++ 12 <expected> needs its C++20 concepts)
  llvm-19                                     # llvm-symbolizer-19: sanitizer reports with file:line, and tests/lsan.supp matches function names
  clang-format-19 clang-tidy-19               # style checks in CI (19: clang-tidy 14 cannot parse GCC 12 <expected>)
)
test_packages=(
  python3                                     # integration test drivers (tests/integration/*.py)
  sip-tester                                  # sipp: scenarios and load
  baresip-core                                # a real SIP user agent
  sox                                         # makes and measures tone WAV files
  libxml2-utils                               # xmllint: test_roster validates RFC 4575 documents
  dnsmasq-base                                # a local DNS server: test_trunk_dial_out's SRV records
  gstreamer1.0-tools                          # gst-launch RTP/SRTP peers (srtpenc/srtpdec from plugins-bad, a build package)
  gstreamer1.0-plugins-base-apps              # gst-discoverer-1.0: the recording tests check what a recording holds
  iproute2 util-linux procps                  # unshare -n for tests with foreign addresses; pkill/ps
  chromium                                    # headless browser for tests/integration/test_web_page.py
  nodejs                                      # runs tests/web/*.mjs (playwright-core drives the Debian chromium)
  wrk                                         # HTTP load for bench/rest_rps.py
  janus                                       # Janus Gateway 1.1: bench/rest_rps.py --peer janus (its HTTP API beside chorusd's REST)
  python3-matplotlib                          # bench/scale_curves.py draws its PNG (Agg backend, no display)
  postgresql                                  # initdb/pg_ctl: the store tests' throw-away PostgreSQL clusters
  kamailio kamailio-postgres-modules          # the SIP front of several chorusd nodes (dispatcher), in the scale-out test
  ca-certificates
)

wanted=("${build_packages[@]}")
if [[ "${1:-}" != "--build-only" ]]; then
  wanted+=("${tool_packages[@]}" "${test_packages[@]}")
fi

missing=()
for p in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# node_modules from the lock files, with npm (the one non-Debian source the brief allows):
# - web/: JsSIP, which chorusd serves to the page at /vendor/jssip.min.js (joining rooms);
# - tests/web/: playwright-core for the browser tests; it never downloads a browser (it drives
#   /usr/bin/chromium).
# Each folder is installed again only when its package-lock.json changed (a stamp of its hash).
# --build-only (make run) does web/ alone, when npm is there: the page's join needs it at run time.
npm_ci_setup() {
  local root dir stamp want dirs
  root="$(cd "$(dirname "$0")/.." && pwd)"
  dirs=("$root/web")
  if [[ "${1:-}" != "--build-only" ]]; then dirs+=("$root/tests/web"); fi
  if ! command -v npm >/dev/null; then
    echo "install-deps: no npm: the page cannot join rooms until \`npm ci --prefix web\` has run" >&2
    return 0
  fi
  for dir in "${dirs[@]}"; do
    [[ -f "$dir/package-lock.json" ]] || continue
    stamp="$dir/node_modules/.package-lock.sha256"
    want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then continue; fi
    if PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --omit=dev --no-audit --no-fund; then
      echo "$want" > "$stamp"
    else
      echo "install-deps: npm ci in ${dir#"$root"/} failed; joining from the page and the browser tests will not work" >&2
    fi
  done
}

# npm: Debian's package, unless another nodejs build (e.g. NodeSource's, which conflicts with it)
# already brings the npm command.
if [[ "${1:-}" != "--build-only" ]] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#wanted[@]} packages present"
  npm_ci_setup "${1:-}"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
npm_ci_setup "${1:-}"
