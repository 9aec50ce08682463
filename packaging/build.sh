#!/usr/bin/env bash
# Build the GradFlip desktop bundle (PyInstaller, one folder) from a dedicated CPU-only environment.
#
#   packaging/build.sh            -> packaging/dist/gradflip/gradflip   (Linux; see packaging/README.md)
#
# Environment:
#   PYTHON=python3.11         interpreter for the build venv (default: python3)
#   BUNDLE_VENV=DIR           build venv (default: .venv-bundle in the repository; gitignored)
#   TORCH_INDEX=URL           extra index for the CPU torch wheel, e.g. https://download.pytorch.org/whl/cpu
#                             (not needed here: torch==2.13.0 resolves to a local CPU wheel)
#   GRADFLIP_BUNDLE_CUDA=1    allow a CUDA torch and keep its libraries (several GB; not the default)
#   CLEAN=1                   remove packaging/build and packaging/dist first
#   SOURCE=DIR                build the app from another source tree (default: this checkout, as it is,
#                             uncommitted changes included); for a release build from a commit:
#                             git archive HEAD | tar -x -C /tmp/src && SOURCE=/tmp/src packaging/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${BUNDLE_VENV:-$ROOT/.venv-bundle}
PY=${PYTHON:-python3}
REQ=packaging/requirements-bundle.txt
DIST=packaging/dist
WORK=packaging/build
t0=$(date +%s)

case "$(uname -s)" in
  MINGW*|MSYS*|CYGWIN*) VBIN=$VENV/Scripts ;;
  *) VBIN=$VENV/bin ;;
esac

# 1. build environment (reused while requirements-bundle.txt is unchanged)
stamp=$VENV/.gradflip-bundle-requirements
if [[ ! -x $VBIN/python ]] || ! cmp -s "$REQ" "$stamp"; then
  echo "build.sh: creating the build environment $VENV" >&2
  "$PY" -m venv "$VENV"
  extra=()
  [[ -n ${TORCH_INDEX:-} ]] && extra=(--extra-index-url "$TORCH_INDEX")
  "$VBIN/python" -m pip install --quiet --upgrade pip
  "$VBIN/python" -m pip install "${extra[@]}" -r "$REQ"
  cp "$REQ" "$stamp"
fi

# 2. CPU only: no CUDA torch, no nvidia-* wheels (they would add gigabytes to the bundle)
if [[ ${GRADFLIP_BUNDLE_CUDA:-0} != 1 ]]; then
  "$VBIN/python" - <<'EOF'
import importlib.metadata as md, sys, torch
nv = sorted(d.metadata["Name"] for d in md.distributions() if (d.metadata["Name"] or "").lower().startswith("nvidia"))
if torch.version.cuda or nv:
    sys.exit(f"build.sh: the build environment has a CUDA torch ({torch.__version__}, CUDA {torch.version.cuda}) "
             f"or NVIDIA wheels {nv}; set TORCH_INDEX=https://download.pytorch.org/whl/cpu and remove the venv")
print(f"build.sh: torch {torch.__version__} (CPU only)", file=sys.stderr)
EOF
fi

# 3. the project itself, non-editable (so gradflip_desktop.resources is a real package directory); the build
#    folders pip leaves in the checkout go first: a file deleted from the checkout stayed in ./build and so in the
#    installed package and the bundle
rm -rf "${SOURCE:-$ROOT}/build" "${SOURCE:-$ROOT}"/*.egg-info
"$VBIN/python" -m pip install --quiet --no-deps --force-reinstall "${SOURCE:-$ROOT}"

# 4. PyInstaller
[[ ${CLEAN:-0} == 1 ]] && rm -rf "$WORK" "$DIST"
t1=$(date +%s)
# run from packaging/: in the repository root the checkout's gradflip_desktop/ (which has no resources/
# inside) would shadow the installed package
(cd packaging && "$VBIN/python" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build gradflip.spec)
t2=$(date +%s)

exe=$DIST/gradflip/gradflip
[[ -x $exe ]] || exe=$DIST/gradflip/gradflip.exe
clean=""
if [[ ${CLEAN:-0} == 1 ]]; then clean=" (clean)"; fi
info="last build $(date -u +%FT%TZ): $(du -sh "$DIST/gradflip" | cut -f1), PyInstaller $((t2 - t1)) s, build.sh total $((t2 - t0)) s$clean"
echo "$info" > "$DIST/build-info.txt"
echo "build.sh: bundle $DIST/gradflip; $info" >&2
"$exe" --version
