#!/bin/bash
# Checks the Debian package that `make deb` built (make package-test runs both; CI runs it after
# make test):
#   1. lintian reports no errors;
#   2. each unit passes `systemd-analyze verify`, and each service unit's
#      `systemd-analyze security --offline=true` exposure is 2.0 or lower;
#   3. as root only: dpkg -i; the user, the state directory, the man pages; a demo PKI made by
#      the mcp-mtls user in the state directory; the installed echo-server, run as that user with
#      the installed example config (no systemd here: setpriv does what User= does), answers
#      `client call`, reloads on SIGHUP (the unit's ExecReload) and stops on SIGTERM with 0; the
#      renewal's and the CA's units' commands work as that user too;
#      dpkg -i again keeps an edited config, the state and the user; dpkg -r leaves no program,
#      unit or man page; dpkg --purge removes the configs, the state and the user.
# Step 3 refuses to run where mcp-mtls is installed or its user or state directory exist, since
# purging would destroy them. Without root it is skipped, and the last line says so.
# usage: scripts/package-test.sh build/mcp-mtls_VERSION_ARCH.deb
set -euo pipefail
deb=$(realpath "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/mcp-mtls-package-test.XXXXXX)
chmod 0755 "$work"
installed=0 server_pid=
cleanup() {
  set +e
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if (( installed )); then
    echo "package-test: purging the package after a failure"
    dpkg --purge mcp-mtls >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package-test: FAILED: $*" >&2; exit 1; }
# await_start LOG MARKER WHAT: until $server_pid logs MARKER (10 s), or fail with its log.
await_start() {
  local _
  for _ in $(seq 100); do
    grep -q "$2" "$1" && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$1"; fail "$3 exited at start"; }
    sleep 0.1
  done
  cat "$1"; fail "$3 did not start within 10 s"
}
# stop_cleanly LOG WHAT: SIGTERM to $server_pid, which must exit 0, or fail with its log.
stop_cleanly() {
  local status=0
  kill -TERM "$server_pid"
  wait "$server_pid" || status=$?
  server_pid=
  (( status == 0 )) || { cat "$1"; fail "$2 exited $status on SIGTERM"; }
}
step() { echo "== $*"; }

step "lintian $(basename "$deb")"
# --fail-on error: warnings are printed and read, errors fail.
lintian --fail-on error --tag-display-limit 0 "$deb" || fail "lintian reports errors"
echo "  lintian: no errors (warnings, if any, are above)"

step "systemd-analyze verify and security (extracted units)"
dpkg-deb -x "$deb" "$work/root"
units=$work/units
mkdir -p "$units"
# The units name /usr/bin/...: verify checks that what they run is executable, so here they run
# the extracted programs instead.
for unit in "$work/root/lib/systemd/system"/*; do
  sed "s|/usr/bin/|$work/root/usr/bin/|g" "$unit" >"$units/$(basename "$unit")"
done
ln -s 'mcp-mtls-server@.service' "$units/mcp-mtls-server@echo.service"
for name in mcp-mtls-server@.service mcp-mtls-renew.service mcp-mtls-renew.timer mcp-mtls-ca.service; do
  [[ -f $units/$name ]] || fail "the package has no $name"
done
unit_names=(mcp-mtls-server@echo.service mcp-mtls-renew.service mcp-mtls-renew.timer mcp-mtls-ca.service)
for name in "${unit_names[@]}"; do
  systemd-analyze verify --man=no "$units/$name" || fail "systemd-analyze verify $name"
done
echo "  systemd-analyze verify: ${unit_names[*]}"
for name in "${unit_names[@]}"; do
  [[ $name == *.service ]] || continue
  # --threshold=20: exposure above 2.0 fails.
  rating=$(systemd-analyze security --offline=true --threshold=20 "$units/$name" 2>&1) ||
    { echo "$rating"; fail "$name is rated above 2.0"; }
  echo "  $(grep 'Overall exposure level' <<<"$rating")"
done

if [[ $(id -u) != 0 ]]; then
  echo "package-test: SKIPPED dpkg -i, the installed echo-server and dpkg -r/--purge: they need root (uid $(id -u))."
  echo "package-test: lintian and the unit checks passed; the install checks did NOT run"
  exit 0
fi

step "dpkg -i"
dpkg-query -W -f='${Status}' mcp-mtls 2>/dev/null | grep -q 'installed' &&
  fail "mcp-mtls is installed on this machine already; this test would remove it"
getent passwd mcp-mtls >/dev/null && fail "a user mcp-mtls exists already; purging would delete it"
getent group mcp-mtls >/dev/null && fail "a group mcp-mtls exists already; purging would delete it"
[[ -e /var/lib/mcp-mtls || -e /etc/mcp-mtls ]] && fail "/var/lib/mcp-mtls or /etc/mcp-mtls exists already; purging would delete it"
installed=1
dpkg -i "$deb" || fail "dpkg -i"
programs=(/usr/bin/pki /usr/bin/client /usr/bin/weather-server /usr/bin/datetime-server /usr/bin/echo-server /usr/bin/everything-server)
for p in "${programs[@]}"; do [[ -x $p ]] || fail "$p is not installed"; done
for name in weather datetime echo everything; do
  [[ -f /etc/mcp-mtls/$name.json ]] || fail "/etc/mcp-mtls/$name.json is missing"
  grep -qx "/etc/mcp-mtls/$name.json" /var/lib/dpkg/info/mcp-mtls.conffiles || fail "/etc/mcp-mtls/$name.json is no conffile"
done
getent passwd mcp-mtls >/dev/null || fail "postinst made no user mcp-mtls"
[[ $(stat -c '%U:%G %a' /var/lib/mcp-mtls) == "mcp-mtls:mcp-mtls 750" ]] ||
  fail "/var/lib/mcp-mtls is $(stat -c '%U:%G %a' /var/lib/mcp-mtls), expected mcp-mtls:mcp-mtls 750"
# Minimal images may tell dpkg to leave man pages out; then there is nothing to look up.
man_check=yes
if grep -Eqs '^path-exclude[= ]*/usr/share/man' /etc/dpkg/dpkg.cfg /etc/dpkg/dpkg.cfg.d/*; then
  man_check=no
  echo "  man pages NOT checked: this machine's dpkg configuration excludes /usr/share/man"
else
  for page in pki client mcp-servers echo-server; do
    man -w "$page" >/dev/null 2>&1 || fail "man $page finds no page"
  done
  echo "  man pki: $(man -w pki); man echo-server: $(man -w echo-server)"
fi
installed_units=(/lib/systemd/system/mcp-mtls-renew.service /lib/systemd/system/mcp-mtls-renew.timer /lib/systemd/system/mcp-mtls-ca.service)
ln -s /lib/systemd/system/mcp-mtls-server@.service "$work/mcp-mtls-server@echo.service"
# Installed, the units run the installed programs and name man pages that man finds.
systemd-analyze verify --man=$man_check "$work/mcp-mtls-server@echo.service" "${installed_units[@]}" ||
  fail "systemd-analyze verify on the installed units"

# What the units do without systemd: the user mcp-mtls, no capabilities, no new privileges; run
# from the state directory (WorkingDirectory=), with exec, so that $! is the program's PID.
as_mcp_mtls=(setpriv --reuid=mcp-mtls --regid=mcp-mtls --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all)
# The command line of a unit's ExecStart, as words (the units quote nothing).
exec_start() { sed -n 's/^ExecStart=//p' "/lib/systemd/system/$1"; }

step "demo PKI in /var/lib/mcp-mtls/certs, made by the mcp-mtls user"
# From /, reading the script on stdin: the checkout may be where mcp-mtls cannot enter.
(cd / && runuser -u mcp-mtls -- env PKI=/usr/bin/pki bash -s /var/lib/mcp-mtls/certs <"$here/scripts/demo-pki.sh") ||
  fail "the demo PKI"
[[ $(stat -c '%U %a' /var/lib/mcp-mtls/certs/echo.key) == "mcp-mtls 600" ]] || fail "echo.key is not mcp-mtls's, 0600"

step "the installed echo-server as mcp-mtls, with /etc/mcp-mtls/echo.json"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$work/echo-server.log
# The kernel's memory-deny-write-execute (Linux 6.3 and later) where there is one: what the
# unit's MemoryDenyWriteExecute= asks of the server.
mdwe='import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
applied = libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) == 0
print("  memory-deny-write-execute: " + ("on" if applied else "not offered by this kernel"), file=sys.stderr)
os.execv(sys.argv[1], sys.argv[1:])'
# Flags win over the config: only the port changes, to one that is free. Debian's python3 (the
# Makefile installs it): one found first on root's PATH may be where mcp-mtls cannot go.
(cd /var/lib/mcp-mtls && exec "${as_mcp_mtls[@]}" /usr/bin/python3 -c "$mdwe" \
   /usr/bin/echo-server --config /etc/mcp-mtls/echo.json --port "$port") >"$log" 2>&1 &
server_pid=$!
await_start "$log" server_started echo-server
[[ $(stat -c %U "/proc/$server_pid") == mcp-mtls ]] || fail "echo-server does not run as mcp-mtls"
grep '^  memory' "$log" || true
certs=/var/lib/mcp-mtls/certs
call() {
  /usr/bin/client --ca $certs/ca-bundle.crt --cert $certs/coordinator.crt --key $certs/coordinator.key \
    --server "echo=https://localhost:$port/mcp" call echo echo "message=$1"
}
answer=$(call "hello from the package") || { cat "$log"; fail "client call failed"; }
echo "  client call echo echo: $answer"
grep -q "hello from the package" <<<"$answer" || fail "the answer does not echo the message"
kill -HUP "$server_pid"
for _ in $(seq 50); do grep -q SIGHUP "$log" && break; sleep 0.1; done
grep -q SIGHUP "$log" || { cat "$log"; fail "no reload logged after SIGHUP"; }
call "after the reload" >/dev/null || { cat "$log"; fail "client call after SIGHUP failed"; }
echo "  SIGHUP: reloaded, still answering"
stop_cleanly "$log" echo-server
echo "  SIGTERM: exit 0"

step "the renewal's and the CA's commands (their units' ExecStart) as mcp-mtls"
read -ra renew <<<"$(exec_start mcp-mtls-renew.service)"
out=$(cd /var/lib/mcp-mtls && "${as_mcp_mtls[@]}" "${renew[@]}" 2>&1) || { echo "$out"; fail "${renew[*]} failed"; }
echo "  ${renew[*]}: $out"
read -ra ca <<<"$(exec_start mcp-mtls-ca.service)"
ca_log=$work/pki-serve.log
(cd /var/lib/mcp-mtls && exec "${as_mcp_mtls[@]}" "${ca[@]}" --port 0) >"$ca_log" 2>&1 &
server_pid=$!
await_start "$ca_log" ca_started "pki serve"
ca_url=$(sed -n 's/.*ca_started.* url=\(https:[^ ]*\).*/\1/p' "$ca_log")
[[ -n $ca_url ]] || { cat "$ca_log"; fail "pki serve logged no URL"; }
health=$(curl -sS --cacert $certs/ca-bundle.crt "$ca_url/healthz") || { cat "$ca_log"; fail "pki serve's /healthz"; }
echo "  ${ca[*]} --port 0: $ca_url/healthz answers $health"
stop_cleanly "$ca_log" "pki serve"

step "dpkg -i again (an upgrade in place)"
# An administrator's edit of a config survives (the package's own is unchanged, so dpkg asks nothing).
echo '{"port": 8445}' >/etc/mcp-mtls/weather.json
dpkg -i "$deb" >/dev/null || fail "dpkg -i over the installed package"
[[ $(cat /etc/mcp-mtls/weather.json) == '{"port": 8445}' ]] || fail "the upgrade replaced an edited conffile"
[[ -f $certs/echo.key ]] || fail "the upgrade lost the state in /var/lib/mcp-mtls"
getent passwd mcp-mtls >/dev/null || fail "the upgrade lost the user"
echo "  the edited config, the state and the user are kept"

step "dpkg -r"
dpkg -r mcp-mtls || fail "dpkg -r"
left=$(ls -d "${programs[@]}" /lib/systemd/system/mcp-mtls* /usr/share/man/man1/pki.1.gz /usr/share/man/man8/mcp-servers.8.gz \
  /usr/share/man/man8/echo-server.8.gz /usr/share/doc/mcp-mtls /usr/lib/sysusers.d/mcp-mtls.conf 2>/dev/null || true)
[[ -z $left ]] || fail "dpkg -r left: $left"
[[ -f /etc/mcp-mtls/echo.json ]] || fail "dpkg -r removed the conffiles (only --purge should)"
echo "  no program, unit, man page or doc left; configs, state and user kept until --purge"

step "dpkg --purge"
dpkg --purge mcp-mtls || fail "dpkg --purge"
installed=0
[[ ! -e /etc/mcp-mtls ]] || fail "/etc/mcp-mtls is still there after --purge"
[[ ! -e /var/lib/mcp-mtls ]] || fail "/var/lib/mcp-mtls is still there after --purge"
! getent passwd mcp-mtls >/dev/null || fail "the user mcp-mtls is still there after --purge"
! getent group mcp-mtls >/dev/null || fail "the group mcp-mtls is still there after --purge"
echo "package-test: passed (lintian, units, install, echo-server as mcp-mtls, remove, purge)"
