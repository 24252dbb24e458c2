#!/usr/bin/env bash
# clang-tidy (the checks in .clang-tidy) over every project source, using BUILD_DIR's compile database.
# Over a clang tree (make test passes build-asan) it reuses that tree's precompiled headers (system
# headers only) and runs in half the time it takes over the GCC tree, whose PCH it cannot read.
set -euo pipefail
# Boost 1.74 does not detect coroutine support under clang 19 with libstdc++ 12, so asio::awaitable
# (rest-api/) would not parse without the two defines below; GCC builds detect it by themselves.
cd "$(dirname "$0")/.."
build_dir=${1:-build}
tidy=$(command -v clang-tidy-19 || true)
if [[ -z "$tidy" ]]; then
  echo "tidy: clang-tidy-19 is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
# A unity tree's database (the Makefile's trees) lists the generated batches, not the sources: clang-tidy
# gets one entry per source, with its batch's flags.
database_dir="$build_dir/tidy-database"
python3 scripts/split-unity-compile-commands.py "$build_dir" "$database_dir"
mapfile -t files < <(git ls-files 'common/*.cpp' 'signaling/*.cpp' 'media/*.cpp' 'mixer/*.cpp' 'sfu/*.cpp' 'conference/*.cpp' 'rest-api/*.cpp' 'server/*.cpp')
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 "$tidy" -p "$database_dir" --quiet \
  --extra-arg=-DBOOST_ASIO_HAS_CO_AWAIT --extra-arg=-DBOOST_ASIO_HAS_STD_COROUTINE 2>/dev/null
echo "tidy: ${#files[@]} files pass .clang-tidy"
