#!/bin/sh
# Regenerates every golden file under tests/data/golden/ (every plugin's).
# Needs Debian's python3 with python3-torch, python3-numpy, python3-skimage and python3-opencv
# (scripts/setup-deps --tools; override with PYTHON=...).
set -eu
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
for script in tools/golden/nn_*.py tools/golden/upsample_*.py tools/golden/losses_*.py tools/golden/pointconv_*.py tools/golden/face_*.py tools/golden/optim.py; do
    "$PYTHON" "$script"
done
