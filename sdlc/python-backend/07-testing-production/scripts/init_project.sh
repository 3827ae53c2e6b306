#!/usr/bin/env bash
# Initialise a checkout for development:
#   1. check the Python version (>= 3.12),
#   2. create .venv and install the project with its dev tools (from uv.lock with uv),
#   3. create .env from .env.example with freshly generated secrets (never overwritten),
#   4. apply database migrations when Alembic is configured and the database answers.
#
# Usage: scripts/init_project.sh [--no-install] [--no-migrate]
# Environment: PYTHON (interpreter to use; default: the first python3* that is >= 3.12)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

install=1
migrate=1
for arg in "$@"; do
    case "$arg" in
        --no-install) install=0 ;;
        --no-migrate) migrate=0 ;;
        -h | --help)
            sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "unknown option: $arg" >&2
            exit 2
            ;;
    esac
done

is_supported() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }

if [[ -z ${PYTHON:-} ]]; then
    for candidate in python3 python3.14 python3.13 python3.12 python; do
        if command -v "$candidate" >/dev/null && is_supported "$candidate"; then
            PYTHON=$candidate
            break
        fi
    done
fi
if [[ -z ${PYTHON:-} ]] || ! is_supported "$PYTHON"; then
    echo "error: Python >= 3.12 is required (set PYTHON=/path/to/python3.12)" >&2
    exit 1
fi

if [[ $install == 1 ]]; then
    if command -v uv >/dev/null; then
        # Exactly the versions in uv.lock (what CI and the image install, too).
        uv sync --frozen --extra dev --python "$PYTHON"
    else
        echo "warning: uv not found: installing the newest allowed versions, not uv.lock" >&2
        [[ -d .venv ]] || "$PYTHON" -m venv .venv
        .venv/bin/python -m pip install --upgrade pip
        .venv/bin/python -m pip install -e ".[dev]"
    fi
    PYTHON=.venv/bin/python
fi

if [[ -f .env ]]; then
    echo ".env exists: left untouched"
else
    # Fill every empty secret in .env.example; the file never leaves this machine.
    umask 077
    "$PYTHON" - <<'PY'
import re
import secrets
from pathlib import Path

SECRETS = ("SECRET_KEY", "JWT_SECRET_KEY", "POSTGRES_PASSWORD")
text = Path(".env.example").read_text(encoding="utf-8")
for key in SECRETS:
    text = re.sub(rf"^{key}=$", f"{key}={secrets.token_urlsafe(48)}", text, flags=re.M)
Path(".env").write_text(text, encoding="utf-8")
PY
    echo "created .env with generated secrets"
fi

if [[ $migrate == 1 && -f alembic.ini ]]; then
    alembic_bin=alembic
    [[ -x .venv/bin/alembic ]] && alembic_bin=.venv/bin/alembic
    if ! "$alembic_bin" upgrade head; then
        echo "warning: migrations not applied (is the database up? try: make docker-up)" >&2
    fi
fi

echo "done. Next: make run"
