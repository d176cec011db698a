#!/usr/bin/env bash
# The tests, on a fresh Debian 12 machine with the .NET 10 SDK: installs what they need (Prometheus, Chromium, Node.js
# for manifest validation, fonts for plots), then runs every test project. CI (.ci/run) calls this same script.
# Extra arguments go to `dotnet test` (for example: ./test.sh --filter FullyQualifiedName~Kubernetes).
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The traces live in ../shared/data beside the clone; tests find it by walking up, or through FORESIGHT_DATA.
if [ -z "${FORESIGHT_DATA:-}" ] && [ -d ../shared/data ]; then
  export FORESIGHT_DATA="$(cd ../shared/data && pwd)"
fi

# Debian packages, installed only when missing (as root, or through sudo).
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

# Fonts for the plots in HTML reports (ScottPlot draws its text with them).
if [ ! -d /usr/share/fonts/truetype/dejavu ]; then
  apt_install fonts-dejavu-core
fi

# A real Prometheus for tests/Foresight.IntegrationTests; the tests start their own instance on a free 127.0.0.1 port.
if ! command -v promtool >/dev/null 2>&1; then
  # policy-rc.d (exit 101) stops the package from starting its system service while it installs.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null && $SUDO chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  apt_install prometheus
  if [ "$created_policy" = 1 ]; then
    $SUDO rm -f /usr/sbin/policy-rc.d
  fi
fi

# Headless Chromium for the dashboard's browser test (tests/Foresight.Dashboard.Tests drives /usr/bin/chromium with Playwright).
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

# Kubernetes manifest validation (tests/Foresight.Kubernetes.Tests runs tools/manifest-validation with Node.js).
if ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
npm ci --prefix tools/manifest-validation --no-audit --no-fund --loglevel=error

dotnet restore Foresight.slnx
dotnet test Foresight.slnx -c Release --no-restore "$@"
