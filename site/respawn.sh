#!/usr/bin/env bash
# respawn.sh COMMAND [ARGS...]: run one long-running process of the site, and start it again
# when it dies (a crash, the OOM killer, `kill -9`). honcho stops every process as soon as one
# exits, so without this a dead worker would take the whole site down with it.
#
# - An abnormal exit (non-zero status, or killed by a signal) restarts COMMAND after
#   RESPAWN_DELAY seconds (default 1).
# - A clean exit (status 0: the process was asked to stop) ends this script with status 0.
# - SIGTERM or SIGINT stops: COMMAND gets SIGTERM (a background child of a script ignores
#   SIGINT, so forwarding SIGINT could go unheard), this script waits for it and exits.
# - A process that keeps dying young (RESPAWN_TRIES times in a row, each within
#   RESPAWN_MIN_UPTIME seconds of its start; defaults 5 and 10) is broken, not unlucky: the
#   script gives up with its status, and honcho stops the site loudly instead of looping.
set -u

delay=${RESPAWN_DELAY:-1}
tries=${RESPAWN_TRIES:-5}
min_uptime=${RESPAWN_MIN_UPTIME:-10}
name=$(basename "$1")
child=0
stopping=0

stop() {
  stopping=1
  if [ "$child" -ne 0 ]; then kill -TERM "$child" 2>/dev/null; fi
}
trap stop TERM INT

quick_failures=0
while :; do
  started=$SECONDS
  "$@" &
  child=$!
  # A stop that came while the child was being started must still reach it.
  if [ "$stopping" -eq 1 ]; then kill -TERM "$child" 2>/dev/null; fi
  # A trapped signal interrupts `wait` (status > 128) while the child is still running.
  wait "$child"; status=$?
  while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done
  child=0

  if [ "$stopping" -eq 1 ] || [ "$status" -eq 0 ]; then exit "$status"; fi

  if [ $((SECONDS - started)) -lt "$min_uptime" ]; then
    quick_failures=$((quick_failures + 1))
  else
    quick_failures=1
  fi
  if [ "$quick_failures" -ge "$tries" ]; then
    echo "respawn: $name exited with status $status, $quick_failures times in a row within ${min_uptime}s of starting; giving up" >&2
    exit "$status"
  fi
  echo "respawn: $name exited with status $status; starting it again in ${delay}s" >&2
  # In the background, so that a stop during the pause is handled at once.
  sleep "$delay" &
  pause=$!
  wait "$pause" 2>/dev/null
  kill "$pause" 2>/dev/null
  if [ "$stopping" -eq 1 ]; then exit "$status"; fi
done
