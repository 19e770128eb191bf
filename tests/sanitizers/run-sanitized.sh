#!/usr/bin/env bash
# Builds the project with sanitizers and runs suites under them (issue: hardening).
#   tests/sanitizers/run-sanitized.sh asan [BUILD_DIR]   ASan + UBSan; unit and gui suites
#                                                        (default BUILD_DIR build-asan)
#   tests/sanitizers/run-sanitized.sh tsan [BUILD_DIR]   TSan; the engine's integration tests on
#                                                        the lab (default build-tsan; the lab must be up)
# Every report fails the run: UBSan does not recover, ASan/LSan/TSan exit non-zero. What is not
# ours (Qt, fontconfig, D-Bus) is named in the suppression files next to this script, each with why.
# env: LABELS / TESTS override what runs (ctest -L / -R).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
supp=$here/tests/sanitizers
kind=${1:-}
die() { echo "run-sanitized: $*" >&2; exit 1; }

case $kind in
asan)
  build=$(realpath -m "${2:-$here/build-asan}")
  flags=(-DPILOTHOUSE_SANITIZE=ON)
  labels=${LABELS:-unit|gui}
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp
  export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
  ;;
tsan)
  build=$(realpath -m "${2:-$here/build-tsan}")
  flags=(-DPILOTHOUSE_TSAN=ON)
  labels=${LABELS:-integration}
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp
  ;;
*)
  die "usage: $0 asan|tsan [BUILD_DIR]"
  ;;
esac

export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}" >/dev/null
fi
cmake --build "$build" --parallel "$(nproc)"
cd "$build"
if [[ -n ${TESTS:-} ]]; then
  ctest --output-on-failure --no-tests=error -R "$TESTS"
else
  ctest --output-on-failure --no-tests=error -L "$labels"
fi
