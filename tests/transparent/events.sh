# events.sh — waiting for what a `cairn run` job does, never for a guessed
# number of seconds. Sourced by the scripts of tests/transparent/ and by
# tests/security/process.sh; they define fail() and set CAIRN first.
#
# Every wait polls for an event (a line in a file, a generation in a store,
# a process gone) every 20 ms; its time limit only turns a hang into a
# failure and is never what the test relies on.

# poll_until SECONDS WHAT CMD...: until CMD succeeds; fails naming WHAT.
poll_until() {
    _limit=$1 _what=$2
    shift 2
    _end=$(($(date +%s) + _limit))
    until "$@"; do
        [ "$(date +%s)" -lt "$_end" ] || fail "$_what did not happen in $_limit s"
        sleep 0.02
    done
}

# lines FILE: how many lines FILE has (0 if it does not exist yet).
lines() {
    if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# has_lines FILE N: FILE has at least N lines.
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }

# has_text FILE PATTERN: grep finds PATTERN in FILE.
has_text() { grep -q -- "$2" "$1" 2>/dev/null; }

# newest STORE: the file name of the newest generation in STORE, or nothing.
newest() {
    ls "$1" 2>/dev/null | grep '^ckpt-[0-9]*\.cairn$' | sort | tail -n 1
}

# newer_than STORE NAME: STORE's newest generation is not NAME (one was
# committed: generations appear in the store by an atomic rename).
newer_than() { [ "$(newest "$1")" != "$2" ]; }

# gen_file N: the file name of generation N.
gen_file() { printf 'ckpt-%020d.cairn' "$1"; }
# parent_of IMAGE: the generation the image is a delta on, or nothing ($CAIRN).
parent_of() { "$CAIRN" inspect "$1" | sed -n 's/^delta *on generation \([0-9]*\) .*/\1/p'; }

# running PID: PID exists and is not a zombie.
running() {
    _state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
    [ -n "$_state" ] && [ "$_state" != Z ] && [ "$_state" != X ]
}

# ended PID: the opposite, for poll_until.
ended() { ! running "$1"; }

# owns_store STORE PID: STORE's cairn-run.pid names PID, the `cairn run`
# started by the test (it writes the file just after starting the job; an
# older one may name a cairn run that is gone or, pid reused, another).
owns_store() { [ "$(cat "$1/cairn-run.pid" 2>/dev/null)" = "$2" ]; }

# checkpoint_now STORE CPID: `cairn checkpoint`, sent to the cairn run CPID
# once it owns STORE. Returns 1, asking nothing, if CPID ended first.
checkpoint_now() {
    poll_until 60 "cairn run (pid $2) writing $1/cairn-run.pid" owns_store_or_ended "$1" "$2"
    running "$2" || return 1
    "$CAIRN" checkpoint --store "$1" >/dev/null || fail "cairn checkpoint --store $1 failed"
}
owns_store_or_ended() { owns_store "$1" "$2" || ended "$2"; }

# descendants PID: the pids under PID (children, grandchildren, ...).
descendants() {
    for _d in $(pgrep -P "$1" 2>/dev/null); do
        echo "$_d"
        descendants "$_d"
    done
}

# dump_tree PID: what PID and every process under it are doing (state,
# signal masks, where they wait in the kernel), for a failure's message.
dump_tree() {
    for _p in "$1" $(descendants "$1"); do
        echo "--- process $_p: $(tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null)"
        grep -E '^(State|PPid|NSpid|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):' "/proc/$_p/status" 2>/dev/null |
            tr '\n' ' '
        echo "wchan=$(cat "/proc/$_p/wchan" 2>/dev/null)"
    done
}

# kill_tree PID: SIGKILL to PID, a child of this shell (cairn run), and to
# every process under it (the namespace's init, the job, a writer), then
# waits for PID and until none of them runs any more, so that nothing of
# the killed run can write after the next run has started. Returns 1 if one
# is still there after 30 s.
kill_tree() {
    _pids="$1 $(descendants "$1")"
    kill -9 $_pids 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    _end=$(($(date +%s) + 30))
    for _p in $_pids; do
        while running "$_p"; do
            [ "$(date +%s)" -lt "$_end" ] || return 1
            sleep 0.02
        done
    done
}

# gone PATTERN: waits until no process has PATTERN in its command line;
# fails after 10 s naming those left.
gone() {
    _end=$(($(date +%s) + 10))
    while pgrep -f -- "$1" >/dev/null; do
        [ "$(date +%s)" -lt "$_end" ] ||
            fail "processes left behind: $(pgrep -af -- "$1" | tr '\n' ';')"
        sleep 0.02
    done
}
