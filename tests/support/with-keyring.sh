#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with GNOME Keyring's Secret
# Service unlocked, in a throw-away HOME, so that a test talks to a real
# keychain without touching the user's:
#   tests/support/with-keyring.sh COMMAND [ARGS...]
# Everything it starts ends with the session (dbus-run-session stops the bus;
# the keyring daemon leaves with it); the HOME is removed afterwards.
set -euo pipefail
command -v dbus-run-session >/dev/null || { echo "with-keyring: dbus-run-session missing (apt-get install dbus-daemon)" >&2; exit 1; }
command -v gnome-keyring-daemon >/dev/null || { echo "with-keyring: gnome-keyring-daemon missing (apt-get install gnome-keyring)" >&2; exit 1; }
home=$(mktemp -d /tmp/pilothouse-keyring.XXXXXX)
trap 'rm -rf "$home"' EXIT
export HOME=$home XDG_DATA_HOME=$home/.local/share XDG_CONFIG_HOME=$home/.config XDG_CACHE_HOME=$home/.cache
export XDG_RUNTIME_DIR=$home/run
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 0700 "$XDG_RUNTIME_DIR"
# The keyring's password only protects this throw-away keyring. Not exec'd:
# the trap above removes the HOME when the session is over.
dbus-run-session -- bash -c '
  eval "$(printf %s throwaway | gnome-keyring-daemon --unlock --components=secrets --daemonize)"
  export GNOME_KEYRING_CONTROL
  exec "$@"' with-keyring "$@"
