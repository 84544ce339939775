#!/usr/bin/env bash
# Runs in the runfiles tree, which mirrors the workspace: ci/, sync/, model/.
exec /usr/bin/python3 ci/mutants --check
