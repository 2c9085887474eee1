# shellcheck shell=bash
# scripts/stack/hookline.sh: Hookline's own processes on the stack (the hook of scripts/stack.sh,
# which sources this file; it runs nothing by itself).
#
# `up` runs STACK_APIS API processes (`node --import tsx src/main.ts --api-only`, what
# `npm run start:api` execs) and STACK_WORKERS worker processes (`--worker-only`, each with a
# METRICS_PORT to scrape), each its own process in its own session with a pid file in .stack/run/
# and its log in .stack/logs/, against the stack's TEMPORAL_ADDRESS and DATABASE_URL. It returns
# once every worker's /metrics answers and every API's /readyz answers 200.
#
# Knobs, read by `up` only (like STACK_*_PORT: an `up` without them goes back to the defaults):
#   STACK_APIS (2), STACK_WORKERS (2)   how many of each; 0 is allowed (no workers: the bench's
#                                       "worker down" shape; the APIs then never turn ready, so
#                                       `up` does not wait for /readyz)
#   STACK_HOOKLINE_PORT (13000)         API i listens on STACK_HOOKLINE_PORT + i - 1
#   STACK_HOOKLINE_METRICS_PORT (13100) worker i serves /metrics on STACK_HOOKLINE_METRICS_PORT + i - 1
#   STACK_HOOKLINE_ENV                  more settings for every Hookline process (src/config.ts):
#                                       whitespace-separated KEY=value, values without spaces, e.g.
#                                       'ALLOWED_TARGET_NETWORKS=127.0.0.0/8 RECONCILE_INTERVAL_MS=2000'.
#                                       They override the defaults (LOG_LEVEL, PUBLIC_BASE_URL,
#                                       API_KEYS, ...), never PORT or METRICS_PORT.
#
# `up` converges on what it is asked for: it starts what is missing (a process that died or was
# killed comes back), stops processes beyond the counts, and restarts all of them when their
# settings or Hookline's code (src/, package-lock.json, this file) changed since they started.
#
# Lines it adds to .stack/env (for the tests, the bench and anyone with curl):
#   API_KEYS=stack:<key>            generated once, kept across `up`s (down --purge forgets it)
#   HOOKLINE_TENANT, HOOKLINE_API_KEY   that tenant and its key, for a caller
#   HOOKLINE_API_URLS               http://127.0.0.1:P1,http://127.0.0.1:P2 (comma-separated)
#   HOOKLINE_WORKER_METRICS_URLS    http://127.0.0.1:M1/metrics,... (comma-separated)
#   STACK_APIS, STACK_WORKERS, STACK_HOOKLINE_PORT, STACK_HOOKLINE_METRICS_PORT, STACK_HOOKLINE_ENV
#                                   what the last `up` asked for

HOOKLINE_TENANT_NAME="stack"
HOOKLINE_LOGS="$STATE_DIR/logs"
# Each process's DATA_DIR (nothing of the store lives there with DATABASE_URL; main.ts still wants one).
HOOKLINE_DATA="$STATE_DIR/hookline"
HOOKLINE_SETTINGS_FILE="$RUN_DIR/hookline.settings"

# The knobs of this `up`, validated.
hookline_knobs() {
  HL_APIS="${STACK_APIS:-2}"
  HL_WORKERS="${STACK_WORKERS:-2}"
  HL_PORT="${STACK_HOOKLINE_PORT:-13000}"
  HL_METRICS_PORT="${STACK_HOOKLINE_METRICS_PORT:-13100}"
  HL_EXTRA="${STACK_HOOKLINE_ENV:-}"
  local v
  for v in HL_APIS HL_WORKERS; do
    [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -le 50 ]] || die "STACK_APIS and STACK_WORKERS must be 0..50 (got ${!v})"
  done
  for v in HL_PORT HL_METRICS_PORT; do
    [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -ge 1024 && "${!v}" -le 65000 ]] ||
      die "STACK_HOOKLINE_PORT and STACK_HOOKLINE_METRICS_PORT must be 1024..65000 (got ${!v})"
  done
  local a
  # Split on whitespace, without glob expansion.
  read -r -a HL_EXTRA_ARGS <<<"$HL_EXTRA"
  for a in "${HL_EXTRA_ARGS[@]}"; do
    [[ "$a" =~ ^[A-Z][A-Z0-9_]*=[^\'\"\\]*$ ]] || die "STACK_HOOKLINE_ENV: '$a' is not KEY=value (without quotes or backslashes)"
    case "${a%%=*}" in
    PORT | METRICS_PORT) die "STACK_HOOKLINE_ENV may not set ${a%%=*} (the hook assigns the ports)" ;;
    esac
  done
  # Normalised to one line: it goes into the env file in single quotes (hence none inside).
  HL_EXTRA="$(tr -s ' \t\n' ' ' <<<"$HL_EXTRA" | sed 's/^ //; s/ $//')"
}

hookline_api_port() { echo $((HL_PORT + $1 - 1)); }
hookline_metrics_port() { echo $((HL_METRICS_PORT + $1 - 1)); }

# Called by write_env: the lines above. The key comes from the env file as it was before this `up`.
hookline_env() {
  hookline_knobs
  local key="" urls="" metrics="" i
  [[ -f "$ENV_FILE" ]] && key="$(sed -n 's/^HOOKLINE_API_KEY=//p' "$ENV_FILE")"
  [[ -n "$key" ]] || key="hk_$(random_hex)"
  for ((i = 1; i <= HL_APIS; i++)); do urls+="${urls:+,}http://127.0.0.1:$(hookline_api_port "$i")"; done
  for ((i = 1; i <= HL_WORKERS; i++)); do
    metrics+="${metrics:+,}http://127.0.0.1:$(hookline_metrics_port "$i")/metrics"
  done
  cat <<EOF
API_KEYS=$HOOKLINE_TENANT_NAME:$key
HOOKLINE_TENANT=$HOOKLINE_TENANT_NAME
HOOKLINE_API_KEY=$key
HOOKLINE_API_URLS=$urls
HOOKLINE_WORKER_METRICS_URLS=$metrics
STACK_APIS=$HL_APIS
STACK_WORKERS=$HL_WORKERS
STACK_HOOKLINE_PORT=$HL_PORT
STACK_HOOKLINE_METRICS_PORT=$HL_METRICS_PORT
STACK_HOOKLINE_ENV='$HL_EXTRA'
EOF
}

# Names of the Hookline processes that have a pid file (running or not), e.g. hookline-api-3.
hookline_known() {
  local f
  for f in "$RUN_DIR"/hookline-api-*.pid "$RUN_DIR"/hookline-worker-*.pid; do
    [[ -e "$f" ]] || continue
    f="${f##*/}"
    echo "${f%.pid}"
  done
}

# What the processes run with, as one digest: the settings of this `up` and Hookline's code.
# Hazard: an edit to src/ does not reach processes that already run; a changed digest restarts them.
hookline_fingerprint() {
  {
    printf '%s\n' "$TEMPORAL_ADDRESS" "$TEMPORAL_NAMESPACE" "$DATABASE_URL" "$API_KEYS" "${TEMPORAL_UI_PORT:-}" \
      "$HL_PORT" "$HL_METRICS_PORT" "$HL_EXTRA"
    (cd "$ROOT" && find src -type f -print0 | sort -z | xargs -0 md5sum && md5sum package-lock.json scripts/stack/hookline.sh)
  } | md5sum | cut -d' ' -f1
}

# daemon_stop on each name, all at once (each waits for its own process).
hookline_stop_all() {
  local n
  for n in "$@"; do daemon_stop "$n" & done
  wait
}

# Stops every Hookline process: the APIs first (no new requests), then the workers.
hookline_down() {
  local apis=() workers=() n
  for n in $(hookline_known); do
    if [[ "$n" == hookline-api-* ]]; then apis+=("$n"); else workers+=("$n"); fi
  done
  [[ "${#apis[@]}" -eq 0 ]] || hookline_stop_all "${apis[@]}"
  [[ "${#workers[@]}" -eq 0 ]] || hookline_stop_all "${workers[@]}"
  rm -f "$HOOKLINE_SETTINGS_FILE"
}

# hookline_start NAME PORT_SETTING PORT ARGS...: one process, with the stack's settings, then this
# up's extra settings, then its port. The PostgreSQL passwords of .stack/env are not passed on, nor
# API_KEYS to a worker (it has no API): the settings docker-compose.yml gives each service.
hookline_start() {
  local name="$1" port_setting="$2" port="$3" first_api drop=()
  shift 3
  first_api="http://127.0.0.1:$(hookline_api_port 1)"
  [[ "$name" == hookline-worker-* ]] && drop=(-u API_KEYS)
  mkdir -p "$HOOKLINE_DATA/$name"
  daemon_start "$name" "$HOOKLINE_LOGS/$name.log" \
    env -u STACK_PG_TEMPORAL_PASSWORD -u STACK_PG_HOOKLINE_PASSWORD -u HOOKLINE_API_KEY "${drop[@]}" \
    LOG_LEVEL=info PUBLIC_BASE_URL="$first_api" DATA_DIR="$HOOKLINE_DATA/$name" \
    "${HL_EXTRA_ARGS[@]}" "$port_setting=$port" \
    node --import tsx src/main.ts "$@"
}

# hookline_wait NAME URL WANT TIMEOUT: polls URL until its status is WANT ("any": any answer below
# 500); fails at once, with the end of the log, if the process exits.
hookline_wait() {
  local name="$1" url="$2" want="$3" timeout="$4" i code
  for ((i = 0; i < timeout * 4; i++)); do
    code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$url" 2>/dev/null || true)"
    if [[ "$want" == any ]]; then
      [[ "$code" =~ ^[1-4][0-9][0-9]$ ]] && return 0
    else
      [[ "$code" == "$want" ]] && return 0
    fi
    if ! daemon_pid "$name" >/dev/null; then
      tail -n 30 "$HOOKLINE_LOGS/$name.log" >&2
      die "$name exited during start-up; log: $HOOKLINE_LOGS/$name.log"
    fi
    sleep 0.25
  done
  tail -n 30 "$HOOKLINE_LOGS/$name.log" >&2
  die "$name: $url did not answer ${want} within ${timeout}s (last: ${code:-none}); log: $HOOKLINE_LOGS/$name.log"
}

hookline_up() {
  cd "$ROOT" || die "cannot enter $ROOT"
  command -v node >/dev/null || die "node is missing (Hookline runs on Node 20)"
  [[ -d node_modules/tsx ]] || die "node_modules is missing: run npm ci first"
  hookline_knobs
  mkdir -p "$HOOKLINE_LOGS" "$HOOKLINE_DATA"
  chmod 0700 "$HOOKLINE_LOGS" "$HOOKLINE_DATA"
  local t0 want n i started=() fingerprint
  t0="$(now_ms)"

  # Settings or code changed since the running processes started: restart them all.
  fingerprint="$(hookline_fingerprint)"
  if [[ -n "$(hookline_known)" && "$(cat "$HOOKLINE_SETTINGS_FILE" 2>/dev/null)" != "$fingerprint" ]]; then
    log "Hookline's settings or code changed: restarting its processes"
    hookline_down
  fi

  # Beyond the counts: stopped.
  local extra=()
  for n in $(hookline_known); do
    i="${n##*-}"
    if [[ "$n" == hookline-api-* && "$i" -gt "$HL_APIS" ]] || [[ "$n" == hookline-worker-* && "$i" -gt "$HL_WORKERS" ]]; then
      extra+=("$n")
    fi
  done
  [[ "${#extra[@]}" -eq 0 ]] || hookline_stop_all "${extra[@]}"

  # Workers first: an API turns ready only once a worker polls its task queue.
  for ((i = 1; i <= HL_WORKERS; i++)); do
    n="hookline-worker-$i"
    daemon_pid "$n" >/dev/null && continue
    hookline_start "$n" METRICS_PORT "$(hookline_metrics_port "$i")" --worker-only
    started+=("$n")
  done
  for ((i = 1; i <= HL_APIS; i++)); do
    n="hookline-api-$i"
    daemon_pid "$n" >/dev/null && continue
    hookline_start "$n" PORT "$(hookline_api_port "$i")" --api-only
    started+=("$n")
  done
  printf '%s\n' "$fingerprint" >"$HOOKLINE_SETTINGS_FILE"

  # The metrics listener starts after the worker polls (src/main.ts): its answer means polling.
  for ((i = 1; i <= HL_WORKERS; i++)); do
    hookline_wait "hookline-worker-$i" "http://127.0.0.1:$(hookline_metrics_port "$i")/metrics" any 180
  done
  want=200
  [[ "$HL_WORKERS" -gt 0 ]] || want=any
  for ((i = 1; i <= HL_APIS; i++)); do
    hookline_wait "hookline-api-$i" "http://127.0.0.1:$(hookline_api_port "$i")/readyz" "$want" 180
  done
  if [[ "${#started[@]}" -gt 0 ]]; then
    log "Hookline: started ${started[*]}; $HL_APIS API(s) ready, $HL_WORKERS worker(s) polling in $(since "$t0")s"
  else
    log "Hookline: $HL_APIS API(s) and $HL_WORKERS worker(s) already run"
  fi
}

hookline_status() {
  local n pid port url code
  HL_PORT="${STACK_HOOKLINE_PORT:-13000}"
  HL_METRICS_PORT="${STACK_HOOKLINE_METRICS_PORT:-13100}"
  local names=()
  for ((i = 1; i <= ${STACK_APIS:-2}; i++)); do names+=("hookline-api-$i"); done
  for ((i = 1; i <= ${STACK_WORKERS:-2}; i++)); do names+=("hookline-worker-$i"); done
  # Any others that still have a pid file (from an up with larger counts).
  for n in $(hookline_known); do [[ " ${names[*]} " == *" $n "* ]] || names+=("$n"); done
  for n in "${names[@]}"; do
    i="${n##*-}"
    if [[ "$n" == hookline-api-* ]]; then
      port="$(hookline_api_port "$i")"
      url="http://127.0.0.1:$port/readyz"
    else
      port="$(hookline_metrics_port "$i")"
      url="http://127.0.0.1:$port/metrics"
    fi
    if pid="$(daemon_pid "$n")"; then
      code="$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$url" 2>/dev/null || true)"
      printf '%-18s running  pid %-8s rss %-8s %s -> %s\n' "$n" "$pid" "$(rss_mb "$pid")" "$url" "${code:-no answer}"
    else
      printf '%-18s stopped  (%s)\n' "$n" "$url"
    fi
  done
  return 0
}
