#!/usr/bin/env bash
# Sets up synthrec on a fresh machine: system data (WordNet, fonts for the glyph world), a venv in .venv, and the
# package. Safe to run again: each step is skipped when already done. Usage: bash scripts/setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--dev" ] && extras="[dev]"

apt_pkgs="wordnet-base fonts-urw-base35 fonts-liberation2 fonts-freefont-ttf fonts-croscore fonts-humor-sans
fonts-comic-neue fonts-dkg-handwriting fonts-dancingscript"
missing=$(for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: $(echo $missing)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing) \
      >/tmp/synthrec-apt.log 2>&1 || echo "setup: apt-get failed (see /tmp/synthrec-apt.log); WordNet prompts and extra fonts will be unavailable"
  else
    echo "setup: optional Debian packages not installed (need root): $(echo $missing)"
  fi
fi

py=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $py"
  "$py" -m venv .venv
fi
stamp=.venv/.synthrec-installed$extras
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing synthrec$extras into .venv (a few minutes on a fresh machine)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import synthrec, torch, diffusers, open_clip" || { echo "setup: install failed"; exit 1; }
  touch "$stamp"
fi
echo "setup: ready (.venv/bin/synthrec)"
