#!/usr/bin/env bash
# Install what a fresh Debian 12 machine needs to build and test libciha.
# Idempotent: apt is skipped when every package is present, pip when moto imports.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"

PACKAGES=(autoconf automake libtool pkg-config make gcc g++ libcurl4-openssl-dev libssl-dev
	libjansson-dev libexpat1-dev libyaml-dev swig ruby ruby-dev rake ruby-minitest python3-dev python3-setuptools python3-pip python3-wheel python3-pytest valgrind curl clang libclang-rt-14-dev openssl)

say() { printf 'setup-debian: %s\n' "$*"; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		say "need root (or sudo) to run: $*" >&2
		return 1
	fi
}

is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing_packages() {
	local p
	for p in "${PACKAGES[@]}"; do
		is_installed "$p" || printf '%s\n' "$p"
	done
}

install_packages() {
	local missing
	missing="$(missing_packages)"
	if [ -z "$missing" ]; then
		say "Debian packages: all present"
		return 0
	fi
	# shellcheck disable=SC2086
	say "installing:" $missing
	as_root apt-get update
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}

moto_python() {
	"$here/moto.sh" python 2>/dev/null
}

apt_has_candidate() {
	local candidate
	candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')"
	[ -n "$candidate" ] && [ "$candidate" != "(none)" ]
}

install_moto() {
	local py
	if py="$(moto_python)"; then
		say "moto: present ($py)"
		return 0
	fi
	say "moto server is missing; trying pip"
	if python3 -m pip install 'moto[server]' && moto_python >/dev/null; then
		say "moto: installed with pip"
		return 0
	fi
	say "pip could not install moto (is PyPI reachable?); looking at Debian's python3-moto"
	if apt_has_candidate python3-moto; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			python3-moto python3-flask python3-flask-cors
		if moto_python >/dev/null; then
			say "moto: installed from Debian's python3-moto"
			return 0
		fi
	fi
	cat >&2 <<'MSG'
setup-debian: ERROR: moto server (python module moto.server with flask and flask_cors) is not
available. PyPI could not be reached and Debian 12 (bookworm) has no usable python3-moto package.
Install it by hand where PyPI is reachable:  python3 -m pip install 'moto[server]'
or point CIHA_PYTHON at a Python interpreter that has it. The integration tests need it.
MSG
	return 1
}

install_packages
install_moto
