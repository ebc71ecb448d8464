"""Drives a litepoold started under liblitepool_lock_count.so and prints the
locks (pthread mutex and rwlock acquisitions, every thread of the daemon)
per request: one-shot point selects, then acquire + release pairs, then an
idle spell of the same length as the control. Used by bench/daemon_locks.sh.
"""
import json
import os
import re
import signal
import socket
import sys
import time


def main():
    pid, socket_path, log_path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    pid = int(pid)
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(socket_path)
    stream = conn.makefile("rwb")

    def call(request):
        stream.write((json.dumps(request) + "\n").encode())
        stream.flush()
        reply = json.loads(stream.readline())
        if not reply.get("ok"):
            sys.exit("daemon_locks: %s answered %s" % (request, reply))
        return reply

    def locks():
        # The handler writes "locks=N" to the daemon's stderr (the log file).
        before = len(re.findall(r"locks=\d+", open(log_path).read()))
        os.kill(pid, signal.SIGUSR2)
        for _ in range(200):
            found = re.findall(r"locks=(\d+)", open(log_path).read())
            if len(found) > before:
                return int(found[-1])
            time.sleep(0.01)
        sys.exit("daemon_locks: no count from the daemon (not started under the library?)")

    call({"op": "exec", "db": "main", "sql":
          "CREATE TABLE IF NOT EXISTS kv(k INTEGER PRIMARY KEY, v TEXT);"
          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000)"
          " INSERT OR IGNORE INTO kv SELECT x, 'value-' || x FROM c"})
    select = {"op": "query", "db": "main", "mode": "read", "sql": "SELECT v FROM kv WHERE k = ?"}

    def one_shots():
        for i in range(count):
            call(dict(select, params=[i % 1000 + 1]))

    def leases():
        for _ in range(count // 2):
            lease = call({"op": "acquire", "db": "main", "mode": "read"})["lease"]
            call({"op": "release", "lease": lease})

    one_shots()  # warm: handles open, statements cached
    for name, run in (("one-shot point select", one_shots), ("acquire or release", leases)):
        start, began = locks(), time.monotonic()
        run()
        elapsed, taken = time.monotonic() - began, locks() - start
        idle_start = locks()
        time.sleep(elapsed)
        idle = locks() - idle_start
        print("%-24s %6.2f locks per request (%d requests; %d locks while idle as long)"
              % (name, (taken - idle) / count, count, idle))


if __name__ == "__main__":
    main()
