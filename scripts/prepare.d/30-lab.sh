#!/usr/bin/env bash
# Machine preparation for the lab (egovops lab up). Idempotent; prints one line per change.
#
# Top-level directories without the execute bit for "other": on some machines of this kind
# /etc /usr /var /run /tmp /dev ... are 0640. Root does not notice, but every daemon that drops
# privileges does (FRR's zebra cannot create its PID file under /var/run/frr, sshd's privilege
# separation child and the routers' login user cannot reach /dev/null or /usr/bin/vtysh).
# Decision: restore the standard Debian modes (0755, /tmp 1777) with a notice, rather than run the
# lab's daemons as root: those modes are what every Debian host has, what the compliance checks
# expect, and the lab must behave like the real estate (privilege-dropping daemons included).
# Only the execute/read bits Debian sets are restored; a directory already at its mode is untouched.
set -euo pipefail

say() { printf '[prepare lab] %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "not root: skipping machine checks (the lab needs root)"
  exit 0
fi

for d in / /etc /usr /usr/bin /usr/sbin /usr/lib /usr/lib64 /usr/share /var /var/lib /var/log /run /dev /home /opt /srv /tmp; do
  [ -d "$d" ] || continue
  [ -L "$d" ] && continue
  want=0755
  [ "$d" = /tmp ] && want=1777
  have=$(stat -c '%a' "$d")
  if [ "$((8#$have & 8#0005))" -ne 5 ]; then
    say "NOTICE: $d has mode $have (no read/execute for other users): restoring the standard Debian mode $want"
    chmod "$want" "$d"
  fi
done

# inotify instances: each lab host's systemd takes ~6 (path units, journald, logind ...), all
# counted against root. Debian's default of 128 is exhausted by ~20 hosts; a host past the limit
# hangs in early boot (its path units fail, sysinit never completes) and never answers SSH.
# Raise the limits for the running kernel (no file in /etc: lab up checks them and says to run this).
want_inst=8192
want_watch=524288
if [ "$(cat /proc/sys/fs/inotify/max_user_instances)" -lt "$want_inst" ]; then
  say "raising fs.inotify.max_user_instances $(cat /proc/sys/fs/inotify/max_user_instances) -> $want_inst (lab hosts run systemd)"
  sysctl -q -w fs.inotify.max_user_instances=$want_inst
fi
if [ "$(cat /proc/sys/fs/inotify/max_user_watches)" -lt "$want_watch" ]; then
  say "raising fs.inotify.max_user_watches $(cat /proc/sys/fs/inotify/max_user_watches) -> $want_watch (lab hosts run systemd)"
  sysctl -q -w fs.inotify.max_user_watches=$want_watch
fi

# The machine's own FRR and sshd are never started here: apt does not start services on these
# machines, and the lab starts its own per-namespace instances by PID (egovops/lab/routers.py).

# Forwarding must stay off in the root namespace: the lab refuses to run otherwise.
if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 0 ]; then
  say "WARNING: net.ipv4.ip_forward=1 on this machine: egovops lab up will refuse to run until it is 0"
fi
