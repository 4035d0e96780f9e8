#!/usr/bin/env bash
# One line that changes when any tracked file (or the set of untracked, not ignored, files) changes:
# `make test` compares it before and after the tests, which must never write tracked files.
# Outside a git checkout (an unpacked archive) it prints nothing and the check is skipped.
set -euo pipefail
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 0
{ git status --porcelain=v1 -uall; git diff HEAD --binary; } | sha256sum | cut -d' ' -f1
