#!/usr/bin/env bash
# Install GradFlip as a desktop app for the current user (Linux, freedesktop menus), or remove it.
#
#   packaging/install.sh               install the bundle packaging/dist/gradflip (build it first:
#                                      packaging/build.sh) + desktop entry, icons and AppStream file
#   packaging/install.sh --bundle DIR  install the bundle from DIR instead
#   packaging/install.sh --pip         no bundle: the menu entry runs the `gradflip` of a pip install
#                                      (found on PATH at install time)
#   packaging/install.sh --uninstall   remove everything the install put there
#
# Where: bundle in ~/.local/lib/gradflip, link ~/.local/bin/gradflip, and under ${XDG_DATA_HOME:-~/.local/share}
# applications/, icons/hicolor/*/apps/ and metainfo/ the files named io.github.gradflip.GradFlip.*
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
RES=$ROOT/resources
APP_ID=io.github.gradflip.GradFlip
PREFIX=${PREFIX:-$HOME/.local}
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
LIBDIR=$PREFIX/lib/gradflip
BINLINK=$PREFIX/bin/gradflip
SIZES="16 32 48 64 128 256 512"

mode=bundle
bundle=$HERE/dist/gradflip
while [[ $# -gt 0 ]]; do
  case $1 in
    --bundle) bundle=$(cd "$2" && pwd); shift 2 ;;
    --pip) mode=pip; shift ;;
    --uninstall) mode=uninstall; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

refresh() {
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA/applications" 2>/dev/null || true
  touch "$DATA/icons/hicolor" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true
}

if [[ $mode == uninstall ]]; then
  rm -f "$DATA/applications/$APP_ID.desktop" "$DATA/metainfo/$APP_ID.metainfo.xml" \
        "$DATA/icons/hicolor/scalable/apps/$APP_ID.svg"
  for s in $SIZES; do rm -f "$DATA/icons/hicolor/${s}x${s}/apps/$APP_ID.png"; done
  if [[ -L $BINLINK && $(readlink "$BINLINK") == "$LIBDIR/"* ]]; then rm -f "$BINLINK"; fi
  if [[ -x $LIBDIR/gradflip && -d $LIBDIR/_internal ]]; then rm -rf "$LIBDIR"; fi
  refresh
  echo "GradFlip removed (settings stay in ~/.config/GradFlip)."
  exit 0
fi

if [[ $mode == bundle ]]; then
  [[ -x $bundle/gradflip && -d $bundle/_internal ]] || {
    echo "install.sh: no bundle in $bundle; build it first (packaging/build.sh) or use --pip" >&2; exit 2; }
  "$bundle/gradflip" --version >/dev/null
  rm -rf "$LIBDIR.new"
  mkdir -p "$PREFIX/lib" "$PREFIX/bin"
  cp -a "$bundle" "$LIBDIR.new"
  rm -rf "$LIBDIR"
  mv "$LIBDIR.new" "$LIBDIR"
  ln -sfn "$LIBDIR/gradflip" "$BINLINK"
  exe=$LIBDIR/gradflip
else
  exe=$(command -v gradflip) || { echo "install.sh: no gradflip on PATH; pip install the project first" >&2; exit 2; }
fi

mkdir -p "$DATA/applications" "$DATA/metainfo" "$DATA/icons/hicolor/scalable/apps"
sed -e "s|^Exec=.*|Exec=\"$exe\" %f|" -e "s|^TryExec=.*|TryExec=$exe|" \
  "$RES/$APP_ID.desktop" > "$DATA/applications/$APP_ID.desktop"
chmod 644 "$DATA/applications/$APP_ID.desktop"
install -m 644 "$RES/$APP_ID.metainfo.xml" "$DATA/metainfo/$APP_ID.metainfo.xml"
install -m 644 "$RES/icons/gradflip.svg" "$DATA/icons/hicolor/scalable/apps/$APP_ID.svg"
for s in $SIZES; do
  mkdir -p "$DATA/icons/hicolor/${s}x${s}/apps"
  install -m 644 "$RES/icons/gradflip-$s.png" "$DATA/icons/hicolor/${s}x${s}/apps/$APP_ID.png"
done
refresh
echo "GradFlip installed: menu entry $DATA/applications/$APP_ID.desktop -> $exe"
[[ $mode == bundle && ":$PATH:" != *":$PREFIX/bin:"* ]] && echo "(add $PREFIX/bin to PATH to run 'gradflip' from a terminal)"
exit 0
