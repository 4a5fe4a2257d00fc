#!/bin/sh
# Claude Code hook command of the tmux-claude `claude` adapter, run as
#   '/bin/sh' '<this file>' '<HookEvent>'
# once per hook event with the event's JSON on stdin. It appends one line
#   {"event":"<HookEvent>","launch":"<TMUX_CLAUDE_LAUNCH>","payload":<stdin>}
# to the file named by TMUX_CLAUDE_EVENTS, which the kernel follows.
#
# Why a POSIX sh script: every turn waits for this hook, and starting Node
# costs 30-80 ms per event; this costs a few ms (two small programs).
# Why through dd: lines of concurrent hooks must stay whole, so the line must
# reach the file in ONE write() on an O_APPEND descriptor. The shell's own
# printf writes in buffer-sized pieces (8 KiB in dash), and cat in 128 KiB
# pieces. POSIX dd, given ibs and obs separately, collects its input into
# output blocks of obs bytes and writes each block once, so a line of up to
# 64 MiB is a single write (GNU, BSD/macOS and busybox dd alike).
#
# It must print nothing (SessionStart/UserPromptSubmit stdout reaches the
# model) and never fail the agent: stderr goes nowhere and it exits 0.
exec 2>/dev/null
events=$TMUX_CLAUDE_EVENTS
case $events in /*) ;; *) exit 0 ;; esac
# The instance is gone (terminated, its directory removed): write nothing.
[ -d "${events%/*}" ] || exit 0
# Both are ours (an event name from the generated settings, a UUID); anything
# else would need JSON escaping, so it is dropped and the kernel ignores the line.
event=$1
case $event in "" | *[!A-Za-z]*) exit 0 ;; esac
launch=$TMUX_CLAUDE_LAUNCH
case $launch in *[!0-9A-Za-z-]*) launch= ;; esac
# Claude Code sends the JSON on one line; a raw line break can only be
# whitespace between JSON tokens, so deleting it keeps the JSON valid.
{
  printf '{"event":"%s","launch":"%s","payload":' "$event" "$launch"
  tr -d '\n'
  printf '}\n'
} | dd ibs=65536 obs=67108864 >>"$events"
exit 0
