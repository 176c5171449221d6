#!/usr/bin/env bash
# Runs a command as a child and ends it when the process that asked for it dies,
# so that no broker outlives a test run or `npm start`, even one killed with -9.
# Usage: process-guard.sh WATCH_PID command [args...]
# TERM or INT stop the command; HUP is passed on to it.
# Started as the leader of its own process group: stopping the group stops both.
set -u
watch_pid=$1
shift
"$@" &
child=$!
stop_child() {
  kill -TERM "$child" 2>/dev/null
  for _ in $(seq 1 120); do
    kill -0 "$child" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL "$child" 2>/dev/null
}
trap 'stop_child; wait "$child"; exit 143' TERM INT
# HUP is passed on: a reload for the apps that take one (the gateway reads its TLS certificate again).
trap 'kill -HUP "$child" 2>/dev/null' HUP
while kill -0 "$watch_pid" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
  sleep 0.5 &
  wait $!
done
if kill -0 "$child" 2>/dev/null; then
  stop_child
fi
wait "$child"
