#!/bin/sh
# memplan collect: snapshot what a booted Linux kernel reports about its physical memory layout.
#
#   sh collect.sh [OUT.tar.gz]      (default memplan-snapshot.tar.gz; "-" writes to standard output)
#
# Then, on any machine with memplan:  memplan check OUT.tar.gz   (or memplan observe OUT.tar.gz)
#
# Needs a POSIX shell and these commands (all of them busybox applets): cat cut date dmesg grep
# gzip id mkdir mktemp mv rm tail tar uname. Reads only what the current user may read; every
# piece it could not read is listed with the reason in MANIFEST inside the archive.
# Run as root for the booted Device Tree (/sys/firmware/fdt), the addresses in /proc/iomem, the
# cma debugfs and a boot log when dmesg is restricted.
#
# Environment: MEMPLAN_ROOT=DIR reads DIR/proc, DIR/sys, DIR/boot, DIR/lib and DIR/var/log
# instead of / (a copied or fake tree); MEMPLAN_DMESG=CMD runs CMD instead of dmesg.

set -u
R=${MEMPLAN_ROOT:-}
DMESG=${MEMPLAN_DMESG:-dmesg}
TAB=$(printf '\t')
MAXLOG=100000
out=${1:-memplan-snapshot.tar.gz}
case $out in
  -|/*) ;;
  *) out=$(pwd)/$out ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/memplan-collect.XXXXXX") || {
  echo "memplan collect: cannot create a temporary directory in ${TMPDIR:-/tmp} (set TMPDIR to a writable folder)" >&2
  exit 2
}
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
snap=$work/memplan-snapshot
mkdir "$snap" || exit 2
man=$snap/MANIFEST
printf 'format%s1\n' "$TAB" > "$man"
got=
skipped=

# note STATUS NAME SOURCE [REASON]: one MANIFEST line (STATUS is ok, skip or info).
note() {
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >> "$man"
  case $1 in
    ok) got="$got $2" ;;
    skip) skipped="$skipped $2" ;;
  esac
}

# why PATH: the reason PATH could not be read.
why() {
  if [ -r "$1" ]; then echo "read failed"; return; fi
  if [ -e "$1" ]; then echo "permission denied (run as root)"; return; fi
  d=${1%/*}
  while [ -n "$d" ] && [ ! -e "$d" ]; do d=${d%/*}; done
  if [ -n "$d" ] && [ ! -x "$d" ]; then
    echo "permission denied on ${d#"$R"} (run as root)"
  else
    echo "not present"
  fi
}

# copy NAME PATH: copy the regular file PATH (below the root) to NAME in the snapshot.
copy() {
  [ -f "$R$2" ] && [ ! -L "$R$2" ] && cat "$R$2" > "$snap/$1" 2>/dev/null && return 0
  rm -f "$snap/$1"
  return 1
}

# grab NAME PATH: copy, and note what happened.
grab() {
  if copy "$1" "$2"; then
    note ok "$1" "$2"
    return 0
  fi
  note skip "$1" "$2" "$(why "$R$2")"
  return 1
}

# copy_tree SRC DEST: the readable regular files below SRC (symbolic links are not followed;
# the write-only alloc/free hooks of the cma debugfs are left out).
copy_tree() {
  mkdir -p "$2" || return 1
  for f in "$1"/*; do
    [ -e "$f" ] || continue
    [ -L "$f" ] && continue
    b=${f##*/}
    if [ -d "$f" ]; then
      copy_tree "$f" "$2/$b"
    else
      case $b in alloc|free) continue ;; esac
      if [ ! -r "$f" ] || ! cat "$f" > "$2/$b" 2>/dev/null; then rm -f "$2/$b"; fi
    fi
  done
}

# grab_tree NAME DIR HINT: copy the directory DIR (below the root) to NAME/ in the snapshot.
grab_tree() {
  if [ -d "$R$2" ] && [ -x "$R$2" ] && [ -r "$R$2" ]; then
    copy_tree "$R$2" "$snap/$1"
    note ok "$1" "$2"
  else
    r=$(why "$R$2")
    [ "$r" = "not present" ] && r="not present ($3)"
    note skip "$1" "$2" "$r"
  fi
}

note info uid "$(id -u 2>/dev/null)"
[ -n "$R" ] && note info root "$R"

grab cmdline /proc/cmdline
grab version /proc/version
if ! copy iomem /proc/iomem; then
  note skip iomem /proc/iomem "$(why "$R/proc/iomem")"
elif grep -q '^ *[0-9a-fA-F]*-[0-9a-fA-F]*[1-9a-fA-F]' "$snap/iomem"; then
  note ok iomem /proc/iomem
else
  # Read without root, /proc/iomem shows every range as 0: worse than nothing.
  rm -f "$snap/iomem"
  note skip iomem /proc/iomem "addresses hidden (every range reads 0 without root)"
fi
grab meminfo /proc/meminfo
grab zoneinfo /proc/zoneinfo
grab fdt /sys/firmware/fdt

# The kernel release and machine: uname on the running system, the /proc files below MEMPLAN_ROOT.
if [ -n "$R" ]; then
  grab release /proc/sys/kernel/osrelease
  grab machine /proc/sys/kernel/arch
else
  if uname -r > "$snap/release" 2>/dev/null; then note ok release "uname -r"; else note skip release "uname -r" "uname failed"; fi
  if uname -m > "$snap/machine" 2>/dev/null; then note ok machine "uname -m"; else note skip machine "uname -m" "uname failed"; fi
fi
rel=
[ -f "$snap/release" ] && rel=$(cat "$snap/release")

# The boot log: dmesg, else the last boot in a log file.
if "$DMESG" > "$snap/dmesg" 2> "$work/dmesg.err" && [ -s "$snap/dmesg" ]; then
  note ok dmesg "$DMESG"
else
  reason=$(head -n 1 "$work/dmesg.err" 2>/dev/null)
  reason="$DMESG failed: ${reason:-no output}"
  rm -f "$snap/dmesg"
  found=
  for f in /var/log/dmesg /var/log/kern.log /var/log/messages /var/log/syslog /var/log/boot.log; do
    if [ ! -f "$R$f" ] || [ ! -r "$R$f" ]; then continue; fi
    n=$(grep -n 'Linux version ' "$R$f" 2>/dev/null | tail -n 1 | cut -d: -f1)
    [ -n "$n" ] || continue
    # the boot messages come first: at most MAXLOG lines from the last boot on
    if tail -n "+$n" "$R$f" 2>/dev/null | head -n "$MAXLOG" > "$snap/dmesg" && [ -s "$snap/dmesg" ]; then
      note ok dmesg "$f" "$reason; copied the last boot (at most $MAXLOG lines) from $f"
      found=1
      break
    fi
  done
  if [ -z "$found" ]; then
    rm -f "$snap/dmesg"
    note skip dmesg "$DMESG" "$reason; no readable log file with a boot in /var/log (dmesg, kern.log, messages, syslog, boot.log)"
  fi
fi

grab_tree cma /sys/kernel/debug/cma "debugfs not mounted at /sys/kernel/debug, or CONFIG_CMA_DEBUGFS not set"
grab_tree mm-cma /sys/kernel/mm/cma "CONFIG_CMA_SYSFS not set"

# The kernel configuration: /proc/config.gz, else the copy distributions install.
if [ -e "$R/proc/config.gz" ] && grab config.gz /proc/config.gz; then
  :
else
  [ -e "$R/proc/config.gz" ] || note skip config.gz /proc/config.gz "not present (CONFIG_IKCONFIG_PROC not set)"
  for f in "/boot/config-$rel" "/lib/modules/$rel/config"; do
    if [ -z "$rel" ] || [ ! -e "$R$f" ]; then continue; fi
    grab config "$f" && break
  done
fi

note info date "$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)"

if ! tar -cf "$work/snapshot.tar" -C "$work" memplan-snapshot 2> "$work/tar.err"; then
  echo "memplan collect: tar failed: $(head -n 1 "$work/tar.err")" >&2
  exit 1
fi
if [ "$out" = "-" ]; then
  gzip -c "$work/snapshot.tar" || exit 1
else
  if ! gzip -c "$work/snapshot.tar" > "$out.part" || ! mv "$out.part" "$out"; then
    rm -f "$out.part"
    echo "memplan collect: cannot write $out" >&2
    exit 1
  fi
fi
echo "memplan collect: wrote ${out}; collected:${got:- nothing}; skipped:${skipped:- nothing} (reasons in MANIFEST)" >&2
exit 0
