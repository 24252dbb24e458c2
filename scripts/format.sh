#!/usr/bin/env bash
# clang-format over the project's C++ sources: `check` fails on any difference, `fix` rewrites.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
formatter=$(command -v clang-format-19 || true)
if [[ -z "$formatter" ]]; then
  echo "format: clang-format-19 is not installed (scripts/install-deps.sh installs it)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
if [[ "$mode" == fix ]]; then
  "$formatter" -i "${files[@]}"
else
  "$formatter" --dry-run --Werror "${files[@]}"
  echo "format: ${#files[@]} files follow .clang-format"
fi
