#!/usr/bin/env bash
# Run a private moto server on a free loopback port.
#   moto.sh start DIR   start it, wait until it answers, write DIR/moto.pid and
#                       DIR/moto.port (log in DIR/moto.log), print its URL
#   moto.sh stop DIR    stop the server started in DIR and wait for it to exit
#   moto.sh python      print a Python interpreter that can run moto server
# CIHA_PYTHON picks the interpreter; otherwise the first of python3 on PATH,
# pyenv's python3 and /usr/bin/python3 that imports moto.server, flask, flask_cors.
set -euo pipefail

START_TIMEOUT_TENTHS=200   # 20 s
STOP_TIMEOUT_TENTHS=50     # 5 s before SIGKILL

die() { printf 'moto.sh: %s\n' "$*" >&2; exit 1; }

find_python() {
	local candidates=() py
	if [ -n "${CIHA_PYTHON:-}" ]; then
		candidates=("$CIHA_PYTHON")
	else
		candidates=(python3 "${PYENV_ROOT:-$HOME/.pyenv}/shims/python3" /usr/bin/python3)
	fi
	for py in "${candidates[@]}"; do
		if command -v "$py" >/dev/null 2>&1 &&
			"$py" -c 'import moto.server, flask, flask_cors' >/dev/null 2>&1; then
			command -v "$py"
			return 0
		fi
	done
	return 1
}

free_port() {
	"$1" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

show_log_tail() {
	if [ -s "$1/moto.log" ]; then
		printf -- '--- last lines of %s/moto.log ---\n' "$1" >&2
		tail -n 30 "$1/moto.log" >&2
		printf -- '---\n' >&2
	fi
}

is_moto_process() {
	[ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q 'moto.server'
}

answers() {
	curl -sf -o /dev/null -X POST "http://127.0.0.1:$1/moto-api/reset"
}

# Start once on `port`; returns 0 when it answers, 2 if it died (port taken?), 1 on timeout.
launch() {
	local dir="$1" py="$2" port="$3" pid i
	MOTO_EC2_LOAD_DEFAULT_AMIS=false "$py" -m moto.server -H 127.0.0.1 -p "$port" \
		</dev/null >"$dir/moto.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/moto.pid"
	echo "$port" >"$dir/moto.port"
	for ((i = 0; i < START_TIMEOUT_TENTHS; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			return 2
		fi
		if answers "$port"; then
			return 0
		fi
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	return 1
}

start() {
	local dir="$1" py port attempt rc
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	py="$(find_python)" || die "no Python with moto server found (run tests/tools/setup-debian.sh, or set CIHA_PYTHON)"
	for attempt in 1 2 3; do
		port="$(free_port "$py")"
		rc=0
		launch "$dir" "$py" "$port" || rc=$?
		if [ "$rc" -eq 0 ]; then
			echo "http://127.0.0.1:$port"
			return 0
		fi
		if [ "$rc" -eq 1 ]; then
			show_log_tail "$dir"
			die "moto server on port $port did not answer within $((START_TIMEOUT_TENTHS / 10)) s"
		fi
		printf 'moto.sh: moto server exited at start (attempt %d, port %s)\n' "$attempt" "$port" >&2
		show_log_tail "$dir"
	done
	rm -f "$dir/moto.pid" "$dir/moto.port"
	die "moto server would not start"
}

stop() {
	local dir="$1" pid i
	[ -f "$dir/moto.pid" ] || return 0
	pid="$(cat "$dir/moto.pid")"
	rm -f "$dir/moto.pid"
	if ! is_moto_process "$pid"; then
		printf 'moto.sh: moto server (pid %s) had already exited\n' "$pid" >&2
		show_log_tail "$dir"
		return 0
	fi
	kill "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT_TENTHS; i++)); do
		is_moto_process "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < STOP_TIMEOUT_TENTHS; i++)); do
		is_moto_process "$pid" || return 0
		sleep 0.1
	done
	die "moto server (pid $pid) would not stop"
}

case "${1:-}" in
start) [ $# -eq 2 ] || die "usage: moto.sh start DIR"; start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: moto.sh stop DIR"; stop "$2" ;;
python) find_python || die "no Python with moto server found" ;;
*) die "usage: moto.sh start DIR | stop DIR | python" ;;
esac
