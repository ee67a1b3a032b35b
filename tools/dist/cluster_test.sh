#!/usr/bin/env bash
# Distributed tune on a real NATS server: builds nats-server from the module
# (github.com/nats-io/nats-server/v2, the version go.mod names) and kagen,
# starts the server on 127.0.0.1 only (random port, JetStream on disk), two
# `kagen worker` processes and one `kagen tune --nats` coordinator, and
# kills one worker with SIGKILL while it holds a trial, which the other
# worker must answer after the ack wait.
# Part-way, the coordinator is killed with SIGKILL too and the same
# command started again. Then it checks:
#   - the second coordinator finished and wrote its Pareto file, taking
#     the results the first one's trials had got from the stream;
#   - no trial was answered twice (worker logs) and every trial the second
#     coordinator queued (or found queued) was answered once;
#   - the profile agrees with a local run (--workers 0, no NATS) on every
#     figure that does not depend on timing;
#   - a third run of the same tune takes every result from the stream and
#     queues nothing.
# Loopback only, bounded in time; exits non-zero on any failure.
#
#	bash tools/dist/cluster_test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

TMP=$(mktemp -d /tmp/kagen-dist.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
step() { printf '=== %s\n' "$*"; }
fail() {
	echo "FAIL: $*" >&2
	for f in "$TMP"/*.log; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	exit 1
}
# deadline SECONDS CMD...: run CMD, failing after SECONDS.
deadline() { timeout --kill-after=5 "$@"; }

step "build kagen and nats-server"
deadline 900 go build -o "$TMP/kagen" .
deadline 900 go build -o "$TMP/nats-server" github.com/nats-io/nats-server/v2
deadline 300 go build -o "$TMP/compare" ./tools/dist/compare

step "synthetic IMU traces"
mkdir -p "$TMP/data"
for f in 0 1; do
	awk -v f=$f -v n=3000 'BEGIN {
		split("SEATED,STANDING_UP,WALKING,TURNING,SITTING_DOWN", L, ",")
		print "x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label"
		for (i = 0; i < n; i++) {
			ph = i / 100
			printf "%.4f,%.4f,0.1,0.01,0.02,%.4f,%.0f,%s\n", sin(ph*(3+f)), 9.8+cos(ph*2), 0.3*sin(ph), 1700000000000+i*10, L[int(i/600)%5+1]
		}
	}' >"$TMP/data/t$f.csv"
done
MODEL=replay/testdata/tiny_har.onnx

step "nats-server on 127.0.0.1"
"$TMP/nats-server" -a 127.0.0.1 -p -1 -js -sd "$TMP/js" --ports_file_dir "$TMP" -l "$TMP/nats-server.log" &
NATS_PID=$!
PIDS+=("$NATS_PID")
URL=""
for _ in $(seq 100); do
	if [ -f "$TMP/nats-server_$NATS_PID.ports" ]; then
		URL=$(sed -n 's/.*"\(nats:\/\/127\.0\.0\.1:[0-9]*\)".*/\1/p' "$TMP/nats-server_$NATS_PID.ports")
		[ -n "$URL" ] && break
	fi
	sleep 0.1
done
case "$URL" in
nats://127.0.0.1:*) echo "server at $URL" ;;
*) fail "nats-server did not report a loopback URL" ;;
esac

# Trials are short on the tiny model: each worker sleeps 150 ms inside
# every trial so that the kill lands in one; a killed worker's trial comes
# back after the 3 s ack wait.
ACK=3s
step "two workers"
for w in 1 2; do
	"$TMP/kagen" worker --nats "$URL" --name "w$w" --ack-wait $ACK --trial-delay 150ms -v >"$TMP/w$w.out" 2>"$TMP/w$w.log" &
	PIDS+=("$!")
	eval "W${w}_PID=$!"
done

tune() { # OUT-PREFIX: one coordinator run of the same tune, in the background
	"$TMP/kagen" tune "$MODEL" --data "$TMP/data" --max-loss 100 --budget 1s --seed 7 \
		--nats "$URL" --ack-wait $ACK -o "$TMP/dist.json" --json >"$TMP/$1.out" 2>"$TMP/$1.log" &
	COORD_PID=$!
	PIDS+=("$COORD_PID")
}
count() { grep -c "worker w$1: done " "$TMP/w$1.log" || true; }
# stat FILE KEY: a count from the coordinator's JSON summary.
stat() { tail -n 1 "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }

step "coordinator 1: kagen tune --nats"
tune coordinator1

# Kill worker 1 while it is inside a trial: its last log line is a start.
killed=""
for _ in $(seq 1500); do
	kill -0 "$COORD_PID" 2>/dev/null || break
	last=$(grep -E 'worker w1: (start|done) ' "$TMP/w1.log" | tail -n 1 || true)
	if [ "$(count 1)" -ge 3 ] && [[ "$last" == *" start "* ]]; then
		kill -9 "$W1_PID"
		{ wait "$W1_PID"; } 2>/dev/null || true
		killed=$(awk '{print $6}' <<<"$last")
		echo "SIGKILL worker 1 inside trial $killed (after $(count 1) trials)"
		break
	fi
	sleep 0.02
done
[ -n "$killed" ] || fail "worker 1 was never caught inside a trial"

# Then kill the coordinator part-way: worker 2 goes on with its queue.
w2=$(count 2)
for _ in $(seq 1500); do
	[ "$(count 2)" -ge $((w2 + 4)) ] && break
	kill -0 "$COORD_PID" 2>/dev/null || fail "coordinator 1 ended before it could be killed"
	sleep 0.02
done
kill -9 "$COORD_PID"
{ wait "$COORD_PID"; } 2>/dev/null || true
echo "SIGKILL coordinator 1 after $(count 2) trials of worker 2"

step "coordinator 2: the same command resumes from the streams"
tune coordinator2
deadline 300 tail --pid="$COORD_PID" -f /dev/null || fail "coordinator 2 did not finish"
wait "$COORD_PID" || fail "coordinator 2 failed"
[ -s "$TMP/dist.json" ] || fail "no Pareto file"
tail -n 1 "$TMP/coordinator2.out"

step "checks"
# The killed worker's trial was answered by worker 2 — unless worker 1 had
# already published its result when the SIGKILL landed (then worker 2 finds
# the result and skips it): either way the trial is not lost.
grep -q "worker w2: done $killed " "$TMP/w2.log" || grep -q "worker w1: done $killed " "$TMP/w1.log" ||
	fail "trial $killed, held by the killed worker, was answered by neither worker"
# No trial answered twice.
grep -h -E 'worker w[12]: done ' "$TMP/w1.log" "$TMP/w2.log" | awk '{print $6}' | sort >"$TMP/done.txt"
dups=$(uniq -d "$TMP/done.txt" | wc -l)
[ "$dups" -eq 0 ] || fail "$dups trials answered twice"
# Coordinator 2 took what coordinator 1's workers had answered, and got
# exactly one result for every trial it queued or found queued.
queued=$(stat "$TMP/coordinator2.out" queued)
already=$(stat "$TMP/coordinator2.out" already_queued)
received=$(stat "$TMP/coordinator2.out" received)
reused=$(stat "$TMP/coordinator2.out" reused)
echo "coordinator 2: reused $reused results, queued $queued trials, found $already queued, received $received; workers answered $(wc -l <"$TMP/done.txt") trials in all"
[ "$reused" -gt 0 ] || fail "coordinator 2 reused no result"
[ "$received" -eq $((queued + already)) ] || fail "coordinator 2 received $received results for $((queued + already)) trials"

step "local run, no NATS"
deadline 300 "$TMP/kagen" tune "$MODEL" --data "$TMP/data" --max-loss 100 --budget 1s --seed 7 --workers 0 -o "$TMP/local.json" --json >"$TMP/local.out" 2>"$TMP/local.log" || fail "the local tune failed"
"$TMP/compare" "$TMP/local.json.profile.json" "$TMP/dist.json.profile.json" || fail "the distributed profile differs from the local one"

step "coordinator 3: a finished tune again runs no trial"
tune coordinator3
wait "$COORD_PID" || fail "coordinator 3 failed"
tail -n 1 "$TMP/coordinator3.out"
[ "$(stat "$TMP/coordinator3.out" queued)" = 0 ] || fail "coordinator 3 queued trials that had results"

kill "$W2_PID" 2>/dev/null || true
echo "distributed cluster test: 1 passed, 0 failed"
