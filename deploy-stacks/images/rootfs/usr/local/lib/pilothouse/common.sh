# Shared helpers for the Pilothouse entrypoints (sourced, not executed).
# Logs go to stderr with a component tag so `docker service logs` reads well.

PH_COMPONENT=${PH_COMPONENT:-pilothouse}

log()  { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$PH_COMPONENT" "$*" >&2; }
warn() { log "WARNING: $*"; }
die()  { log "FATAL: $*"; exit 1; }

# secret NAME [DEFAULT]: value of $NAME, or the content of the file named by $NAME_FILE
# (Docker secrets), without the trailing newline. NAME_FILE wins when both are set.
secret() {
    local name=$1 file_var="${1}_FILE" file
    file=${!file_var:-}
    if [[ -n $file ]]; then
        [[ -r $file ]] || die "$file_var=$file is not readable"
        local v
        v=$(<"$file")
        printf '%s' "${v%$'\n'}"
    elif [[ -n ${!name:-} ]]; then
        printf '%s' "${!name}"
    elif [[ $# -ge 2 ]]; then
        printf '%s' "$2"
    else
        die "neither $name nor $file_var is set"
    fi
}

# require VAR...: fail with a clear message when a variable is empty.
require() {
    local v
    for v in "$@"; do
        [[ -n ${!v:-} ]] || die "environment variable $v is required"
    done
}

# wait_resolvable HOST SECONDS: Docker's DNS only knows a dnsrr task once it runs (and is healthy).
wait_resolvable() {
    local host=$1 deadline=$(( SECONDS + $2 ))
    until getent hosts "$host" >/dev/null; do
        (( SECONDS < deadline )) || return 1
        sleep 1
    done
}

# Interruptible sleep: bash runs traps only between commands, so sleep in the background and wait.
nap() { sleep "$1" & wait $! || true; }
