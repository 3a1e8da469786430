#!/usr/bin/env bash
# Install everything the book needs, on a fresh machine or an existing one. Safe to run again:
# each step is skipped when what it installs is already there and unchanged.
#   - Debian packages: Chromium (renders diagrams at build time, runs the browser tests), CJK fonts, Node.js
#   - .venv with the exact Python packages of requirements.txt (CPU torch) and course_utils (editable)
#   - node_modules with the exact JavaScript of package-lock.json (vendored into the built book)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
say() { printf '\n==> %s\n' "$*"; }

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
# grep without -q reads all of fc-list: with pipefail, -q can exit first and fail the pipeline by SIGPIPE
fc-list 2>/dev/null | grep -i "noto sans cjk" >/dev/null || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    say "installing Debian packages with sudo: ${need_apt[*]}"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "Missing system packages (${need_apt[*]}): install them with your package manager, then run this again." >&2
    exit 1
  fi
fi

stamp_py=$(cat requirements.txt pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.setup-stamp 2>/dev/null)" != "$stamp_py" ]; then
  say "creating .venv and installing requirements.txt (a few minutes the first time)"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  # only for the GPT-2 BPE ranks it ships, so without its dependencies (they would pull in triton)
  .venv/bin/python -m pip install -q --no-deps openai-whisper==20250625
  # every requirement consistent, except the dependencies openai-whisper deliberately goes without
  problems=$(.venv/bin/python -m pip check 2>&1 | grep -v -e "^openai-whisper .* requires" -e "^No broken requirements" || true)
  if [ -n "$problems" ]; then echo "pip check found conflicts:" >&2; echo "$problems" >&2; exit 1; fi
  echo "$stamp_py" > .venv/.setup-stamp
else
  say ".venv is up to date"
fi

stamp_js=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -d node_modules ] || [ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$stamp_js" ]; then
  say "installing the pinned JavaScript of package-lock.json"
  # never let puppeteer download a browser of its own: the Debian Chromium is used
  PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$stamp_js" > node_modules/.setup-stamp
else
  say "node_modules is up to date"
fi
