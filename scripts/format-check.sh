#!/usr/bin/env bash
# Fails when a C++ file of the project is not as clang-format (.clang-format:
# Google style, 100 columns) would write it, and names the files. Run
# `scripts/format-check.sh --fix` to format them in place. Works without
# git (a source tarball): the files are found by folder.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find base wire log config pool metrics server client tests bench fuzz \
  \( -name '*.cc' -o -name '*.h' \) -not -path '*/build*' | sort)
if [[ "${1:-}" == --fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [[ ${#bad[@]} -gt 0 ]]; then
  echo "not formatted (scripts/format-check.sh --fix):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "format: ${#files[@]} files as clang-format writes them"
