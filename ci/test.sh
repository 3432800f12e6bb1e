#!/usr/bin/env bash
# The project's CI: the README's test command, with Java 25.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
echo "== unit, golden and CLI tests (./mvnw -B verify)"
./mvnw -B verify
