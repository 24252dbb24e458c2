#!/usr/bin/env bash
# Installs every build, run and test dependency of Chorus from Debian 12 packages.
# Idempotent: packages already present are skipped, so `make run` / `make test` can call it every time.
# Usage: scripts/install-deps.sh [--build-only]
set -euo pipefail

build_packages=(
  build-essential g++ cmake ninja-build pkg-config git
  libboost1.74-dev libboost-system1.74-dev   # Boost.Asio (+ssl) for transports; header-only mostly
  libssl-dev openssl                          # TLS transport, DTLS-SRTP, STUN MESSAGE-INTEGRITY
  libsrtp2-dev                                # SRTP/SRTCP (media/srtp)
  nlohmann-json3-dev                          # JSON (REST, status)
  libyaml-cpp-dev                             # optional YAML config file
  libsqlite3-dev                              # the store (conference/store): rooms, meetings, keys; WAL + migrations
  libical-dev                                 # RFC 5545 RRULE expansion with time zones, .ics parse-back (conference/schedule)
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev  # the audio MCU's decode/encode pipeline (mixer/)
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-libav  # rtpjitterbuffer, depayloaders, Opus, G.711, G.722 (avenc/avdec_g722)
  espeak-ng                                   # speaks the IVR prompts into WAV files at build time (mixer/prompts)
  ccache                                      # compiler cache: rebuilds of unchanged sources are free (used when present)
  libgtest-dev libgmock-dev libbenchmark-dev  # unit tests and micro benchmarks
  libopus-dev                                 # bench/tools/mixer_load: Opus frames for the capacity generator
)
tool_packages=(
  clang-19 libclang-rt-19-dev                 # libFuzzer + ASan/UBSan for fuzz/ (clang 19: libstdc++ 12 <expected> needs its C++20 concepts)
  clang-format-19 clang-tidy-19               # style checks in CI (19: clang-tidy 14 cannot parse GCC 12 <expected>)
)
test_packages=(
  python3                                     # integration test drivers (tests/integration/*.py)
  sip-tester                                  # sipp: scenarios and load
  baresip-core                                # a real SIP user agent
  sox                                         # makes and measures tone WAV files
  gstreamer1.0-tools gstreamer1.0-plugins-bad  # gst-launch RTP/SRTP peers (srtpenc/srtpdec)
  iproute2 util-linux procps                  # unshare -n for tests with foreign addresses; pkill/ps
  chromium                                    # headless browser for tests/integration/test_web_page.py
  nodejs                                      # runs tests/web/*.mjs (playwright-core drives the Debian chromium)
  wrk                                         # HTTP load for bench/rest_rps.py
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

# tests/web/node_modules from the lock file (npm is the one non-Debian source the brief allows, for
# the web page's test); never downloads a browser: playwright-core drives /usr/bin/chromium.
web_test_setup() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/web"
  [[ -f "$dir/package-lock.json" ]] && command -v npm >/dev/null || return 0
  local stamp="$dir/node_modules/.package-lock.sha256" want
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    if PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --no-audit --no-fund; then
      echo "$want" > "$stamp"
    else
      echo "install-deps: npm ci in tests/web failed; the browser test will skip" >&2
    fi
  fi
}

# npm: Debian's package, unless another nodejs build (e.g. NodeSource's, which conflicts with it)
# already brings the npm command.
if [[ "${1:-}" != "--build-only" ]] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#wanted[@]} packages present"
  if [[ "${1:-}" != "--build-only" ]]; then web_test_setup; fi
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [[ "${1:-}" != "--build-only" ]]; then web_test_setup; fi
