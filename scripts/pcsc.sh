#!/usr/bin/env bash
# The PC/SC stack for the card tests and the demo: pcscd with the vpcd virtual reader driver.
#
#   scripts/pcsc.sh [ensure]   packages (below), then start pcscd unless it is already up
#   scripts/pcsc.sh packages   only install the Debian packages that are missing (what `make install`
#                              runs before pip: pyscard has no Linux wheel and builds against
#                              libpcsclite-dev; pyscard's own build pulls swig from PyPI, the Debian
#                              swig is there for a build without build isolation)
#   scripts/pcsc.sh start      start pcscd unless it is up (waits until its socket and vpcd listen)
#   scripts/pcsc.sh stop       stop every pcscd and wait until they are gone
#   scripts/pcsc.sh restart    stop, then start
#   scripts/pcsc.sh status     exit 0 when pcscd and the vpcd reader are up
#
# Idempotent and quick when done: no apt call when the packages are installed, no start when the
# daemon is up. Installing and starting need root; without root a missing piece is an error that
# says what to run. There is no systemd here, so pcscd runs directly (`pcscd --foreground`, detached,
# logging to $PCSCD_LOG), without --auto-exit (the Debian unit's flag) so it stays up between runs.
#
# pcsc-lite (Debian 12: 1.9.9): clients talk to the daemon over the Unix socket
# /run/pcscd/pcscd.comm (PCSCLITE_CSOCK_NAME overrides it, for client and daemon alike); the daemon
# writes its pid to /run/pcscd/pcscd.pid, in the foreground too.
#
# vpcd (Debian vsmartcard-vpcd 3.3) is configured by /etc/reader.conf.d/vpcd:
#     FRIENDLYNAME "Virtual PCD"
#     DEVICENAME   /dev/null:0x8C7B
#     LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
#     CHANNELID    0x8C7B
# 0x8C7B = 35963 is the TCP port of the first slot; the host part "/dev/null" means vpcd listens
# (on all interfaces) and a virtual card connects to it as a TCP client. The driver has two slots,
# so pcscd shows two readers on consecutive ports:
#     "Virtual PCD 00 00"  <- a virtual card connected to port 35963
#     "Virtual PCD 00 01"  <- a virtual card connected to port 35964
# A reader holds a card while a client is connected (vpcd polls it with GET ATR about every 0.4 s);
# closing the connection removes the card. The frames are 2-byte big-endian length + payload; a
# 1-byte payload is a control (00 power off, 01 power on, 02 reset, 04 send ATR), anything else a
# command APDU answered with data + SW (see card_service/fakes/soft_piv.py).
set -euo pipefail

PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev swig)
RUN_DIR=/run/pcscd
SOCKET=${PCSCLITE_CSOCK_NAME:-$RUN_DIR/pcscd.comm}
PID_FILE=$RUN_DIR/pcscd.pid
VPCD_PORT=35963
PCSCD_LOG=${PCSCD_LOG:-/tmp/cunwu-pcscd.log}
WAIT_SECONDS=10
SCRIPT_LOCK=${PCSC_SCRIPT_LOCK:-/tmp/cunwu-pcsc-script.lock}

say() { echo "pcsc.sh: $*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

missing_packages() {
    local pkg
    for pkg in "${PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            echo "$pkg"
        fi
    done
}

packages() {
    local missing
    missing=$(missing_packages)
    [ -z "$missing" ] && return 0
    # shellcheck disable=SC2086
    if ! is_root; then
        say "missing Debian packages: $(echo $missing). Install them as root:"
        say "    sudo apt-get install -y ${PACKAGES[*]}"
        say "(or run: sudo scripts/pcsc.sh packages)"
        return 1
    fi
    say "installing $(echo $missing)"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! apt-get install -y -q $missing >/dev/null; then
        say "apt-get install failed; updating the package lists and trying again"
        apt-get update -q >/dev/null
        apt-get install -y -q $missing >/dev/null
    fi
}

pcscd_bin() { command -v pcscd || echo /usr/sbin/pcscd; }

daemon_pid() {
    local pid
    [ -r "$PID_FILE" ] || return 1
    pid=$(tr -dc '0-9' <"$PID_FILE")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# vpcd's first slot listens: a LISTEN (0A) entry for the port in /proc/net/tcp. Connecting to the
# port instead would look like a card being inserted.
vpcd_listening() {
    local port_hex
    port_hex=$(printf '%04X' "$VPCD_PORT")
    grep -qE "^ *[0-9]+: [0-9A-F]+:${port_hex} [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

is_up() { daemon_pid >/dev/null && [ -S "$SOCKET" ] && vpcd_listening; }

start() {
    if is_up; then
        return 0
    fi
    if ! is_root; then
        say "pcscd is not running; start it as root: sudo scripts/pcsc.sh start"
        return 1
    fi
    if [ ! -e /etc/reader.conf.d/vpcd ]; then
        say "/etc/reader.conf.d/vpcd is missing (package vsmartcard-vpcd); run scripts/pcsc.sh packages"
        return 1
    fi
    if pgrep -x pcscd >/dev/null; then
        # up without the vpcd reader (started before vsmartcard-vpcd was installed), or a stray
        # daemon whose pid file is gone but which still holds vpcd's ports: start anew
        stop
    fi
    mkdir -p "$RUN_DIR"
    rm -f "$PID_FILE" "$SOCKET"  # stale files of a daemon that is gone
    setsid "$(pcscd_bin)" --foreground >>"$PCSCD_LOG" 2>&1 </dev/null 9<&- &  # not holding the lock
    local waited=0
    until is_up; do
        if [ "$waited" -ge $((WAIT_SECONDS * 10)) ]; then
            say "pcscd did not come up within ${WAIT_SECONDS}s; its log ($PCSCD_LOG) ends with:"
            tail -n 20 "$PCSCD_LOG" >&2 || true
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    say "pcscd is up (pid $(daemon_pid), socket $SOCKET, vpcd on ports $VPCD_PORT and $((VPCD_PORT + 1)))"
}

stop() {
    # Every pcscd, not only the one in the pid file: a stray daemon holding vpcd's ports would make
    # the next one start without its reader.
    local pids waited=0
    pids=$(pgrep -x pcscd) || { rm -f "$PID_FILE" "$SOCKET"; return 0; }
    if ! is_root; then
        say "stopping pcscd needs root"
        return 1
    fi
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    while pgrep -x pcscd >/dev/null; do
        if [ "$waited" -ge $((WAIT_SECONDS * 10)) ]; then
            pkill -KILL -x pcscd 2>/dev/null || true
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    rm -f "$PID_FILE" "$SOCKET"
}

# One run at a time, machine-wide: two runs racing to start pcscd would leave two daemons, one of
# them without the vpcd ports (test sessions running side by side each call this script).
touch "$SCRIPT_LOCK" 2>/dev/null && chmod a+r "$SCRIPT_LOCK" 2>/dev/null || true
exec 9<"$SCRIPT_LOCK"
flock 9

case "${1:-ensure}" in
    ensure) packages && start ;;
    packages) packages ;;
    start) start ;;
    stop) stop ;;
    restart) stop && start ;;
    status) is_up ;;
    *)
        say "usage: scripts/pcsc.sh [ensure|packages|start|stop|restart|status]"
        exit 2
        ;;
esac
