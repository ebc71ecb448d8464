"""litepool client for Python: standard library only.

Talks to litepoold over its Unix socket (newline-delimited JSON, see
docs/protocol.md). A lease is a context manager: it is released when the
``with`` block ends, deterministically -- never by a finalizer.

    import litepool

    with litepool.Client("./litepool.sock") as db:
        with db.lease("main", tag="nightly-report") as lease:
            lease.exec("CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v)")
            with lease.transaction():
                lease.query("INSERT INTO kv VALUES (?, ?)", ["a", 1])
            rows = lease.query("SELECT k, v FROM kv").rows
        print(db.query("main", "SELECT count(*) FROM kv").rows[0][0])

Values map as in the protocol: None <-> NULL, int <-> INTEGER, float <->
REAL, str <-> TEXT, bytes <-> BLOB. Errors raise ``litepool.Error`` whose
``code`` is the protocol's stable error code (``"acquire_timeout"``, ...).

A Client is one connection and is not thread-safe: give each thread its own.
"""

import base64
import json
import math
import os
import socket

__all__ = ["Client", "Lease", "Result", "Error", "default_socket_path"]

PROTOCOL_VERSION = 1


def default_socket_path():
    """$LITEPOOL_SOCKET, or ./litepool.sock (the daemon's default)."""
    return os.environ.get("LITEPOOL_SOCKET", "./litepool.sock")


class Error(Exception):
    """A failed request. ``code`` is the protocol's error code; transport
    failures (connection refused, closed) use the client-only code
    ``"io_error"``. ``sqlite_code`` is set for ``sql_error``."""

    def __init__(self, code, message, sqlite_code=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.sqlite_code = sqlite_code


class Result:
    """The reply of a query: column names, rows (lists of values), the number
    of rows changed and the last inserted rowid (0 when the statement
    inserted none). ``decltypes`` is None unless the query asked for them
    (``decltypes=True``): then one entry per column, its declared type
    (``"INTEGER"``, ``"VARCHAR(20)"``) or None for an expression.

    exec_with_result() returns one too, with no columns or rows."""

    def __init__(self, reply):
        self.columns = reply.get("columns", [])
        self.decltypes = reply.get("decltypes")
        self.rows = [[_decode(v) for v in row] for row in reply.get("rows", [])]
        self.changes = reply.get("changes", 0)
        self.last_insert_rowid = reply.get("last_insert_rowid", 0)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        return "Result(columns=%r, rows=%r)" % (self.columns, self.rows)


def _encode(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$blob": base64.b64encode(bytes(value)).decode("ascii")}
    # Refused here, before anything is sent, as the C++ client does: JSON
    # has no NaN or infinity, and SQLite no integer beyond 64 bits.
    if isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**63:
        raise Error("bad_request", "integer out of 64-bit range: %d" % value)
    if isinstance(value, float) and not math.isfinite(value):
        raise Error("bad_request", "%r has no JSON form" % value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError("cannot send %s as a SQL value" % type(value).__name__)


def _decode(value):
    if isinstance(value, dict) and "$blob" in value:
        return base64.b64decode(value["$blob"])
    return value


def _params(params):
    if params is None:
        return None
    if isinstance(params, dict):
        return {k: _encode(v) for k, v in params.items()}
    return [_encode(v) for v in params]


class Client:
    """One connection to litepoold. Use as a context manager, or call
    close(); closing releases every lease of the connection (the daemon
    rolls back their open transactions)."""

    def __init__(self, socket_path=None, timeout=None):
        self._path = socket_path or default_socket_path()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if timeout is not None:
            self._sock.settimeout(timeout)
        try:
            self._sock.connect(self._path)
        except OSError as e:
            self._sock.close()
            raise Error("io_error", "cannot connect to %s: %s" % (self._path, e)) from e
        self._file = self._sock.makefile("rb")
        self._next_id = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._sock is not None:
            self._file.close()
            self._sock.close()
            self._sock = None

    def raw_call(self, request):
        """Sends ``request`` exactly as given (no ``id`` is added) and returns
        the daemon's reply dict as it is, also when it says ``"ok": false``.
        Raises Error only with ``"io_error"``: the connection failed or the
        reply was not a JSON object. For tools and protocol tests."""
        if self._sock is None:
            raise Error("io_error", "the client is closed")
        line = json.dumps(request, separators=(",", ":"), allow_nan=False) + "\n"
        try:
            self._sock.sendall(line.encode("utf-8"))
            reply_line = self._file.readline()
        except OSError as e:
            raise Error("io_error", str(e)) from e
        if not reply_line:
            raise Error("io_error", "the daemon closed the connection")
        try:
            reply = json.loads(reply_line)
        except ValueError as e:
            raise Error("io_error", "the reply is not JSON: %r" % reply_line[:200]) from e
        if not isinstance(reply, dict):
            raise Error("io_error", "the reply is not a JSON object: %r" % reply_line[:200])
        return reply

    def call(self, request):
        """Sends one request (a dict) and returns the reply dict if it is ok;
        raises Error otherwise."""
        request = dict(request)
        request["id"] = self._next_id
        self._next_id += 1
        reply = self.raw_call(request)
        if not reply.get("ok"):
            err = reply.get("error", {})
            raise Error(err.get("code", "internal"), err.get("message", ""),
                        err.get("sqlite_code"))
        return reply

    def hello(self):
        return self.call({"op": "hello"})

    def ping(self):
        self.call({"op": "ping"})

    def lease(self, db, mode="write", tag=None, wait_ms=None, lease_ms=None):
        """Acquires a lease on a handle of ``db``; use it in a ``with``
        block so it is released when the block ends."""
        request = {"op": "acquire", "db": db, "mode": mode}
        if tag is not None:
            request["tag"] = tag
        if wait_ms is not None:
            request["wait_ms"] = wait_ms
        if lease_ms is not None:
            request["lease_ms"] = lease_ms
        reply = self.call(request)
        return Lease(self, reply["lease"], reply["db"], reply["mode"], reply["lease_ms"])

    def query(self, db, sql, params=None, mode="write", decltypes=False):
        """One statement on a one-shot lease (acquired and released by the
        daemon around it). ``mode`` is "write", "read" or "auto" (start on a
        read handle, move to the writer if the statement writes)."""
        request = {"op": "query", "db": db, "mode": mode, "sql": sql}
        if params is not None:
            request["params"] = _params(params)
        if decltypes:
            request["decltypes"] = True
        return Result(self.call(request))

    def exec(self, db, sql, mode="write"):
        """Several statements, no parameters, on a one-shot lease. Returns
        the number of rows they changed (see exec_with_result)."""
        return self.exec_with_result(db, sql, mode).changes

    def exec_with_result(self, db, sql, mode="write"):
        """exec(), returning a Result with ``changes`` and
        ``last_insert_rowid`` (of the last row its statements inserted, or
        0)."""
        return Result(self.call({"op": "exec", "db": db, "mode": mode, "sql": sql}))

    def stats(self):
        return self.call({"op": "stats"})

    def leases(self):
        return self.call({"op": "leases"})["leases"]

    def backup(self, db, file):
        """Copies database ``db`` online into ``file`` inside the daemon's
        backup_dir; returns the reply (``file``, ``bytes``, ``pages``,
        ``duration_ms``) once the copy has landed."""
        return self.call({"op": "backup", "db": db, "file": file})


class Lease:
    """The exclusive use of one handle. Release it with release() or by
    leaving its ``with`` block; an exception in the block releases it too
    (and the daemon rolls back an open transaction)."""

    def __init__(self, client, lease_id, db, mode, lease_ms):
        self._client = client
        self.id = lease_id
        self.db = db
        self.mode = mode
        self.lease_ms = lease_ms
        self._released = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self._released:
            try:
                self.release()
            except Error:
                if exc[0] is None:
                    raise

    def query(self, sql, params=None, decltypes=False):
        request = {"op": "query", "lease": self.id, "sql": sql}
        if params is not None:
            request["params"] = _params(params)
        if decltypes:
            request["decltypes"] = True
        return Result(self._client.call(request))

    def exec(self, sql):
        """Returns the number of rows changed (see exec_with_result)."""
        return self.exec_with_result(sql).changes

    def exec_with_result(self, sql):
        """exec(), returning a Result with ``changes`` and
        ``last_insert_rowid``."""
        return Result(self._client.call({"op": "exec", "lease": self.id, "sql": sql}))

    def release(self):
        """Gives the handle back. Returns True if a transaction was open
        (and was rolled back)."""
        self._released = True
        return self._client.call({"op": "release", "lease": self.id})["rolled_back"]

    def transaction(self):
        """A context manager: BEGIN, then COMMIT when the block ends, or
        ROLLBACK if it raises."""
        return _Transaction(self)


class _Transaction:
    def __init__(self, lease):
        self._lease = lease

    def __enter__(self):
        self._lease.exec("BEGIN")
        return self._lease

    def __exit__(self, exc_type, exc, tb):
        self._lease.exec("COMMIT" if exc_type is None else "ROLLBACK")
        return False
