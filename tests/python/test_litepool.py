"""Tests of clients/python/litepool.py against a real litepoold."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import litepool


class Daemon:
    """A litepoold child on a temp socket and database."""

    def __init__(self, **overrides):
        self.dir = tempfile.mkdtemp(prefix="litepool-py-")
        self.socket = os.path.join(self.dir, "litepool.sock")
        config = {
            "socket": self.socket,
            "metrics": {"listen": ""},
            "reaper_interval_ms": 100,
            "databases": {"main": {"path": os.path.join(self.dir, "main.db"),
                                   "create_if_missing": True,
                                   "pragmas": {"journal_mode": "wal"}}},
        }
        config.update(overrides)
        path = os.path.join(self.dir, "litepool.json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.log = []
        self.proc = subprocess.Popen([os.environ["LITEPOOLD"], "--config", path],
                                     stderr=subprocess.PIPE, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.log.append(line)
                if '"event":"listening"' in line:
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(10) or self.proc.poll() is not None:
            raise RuntimeError("litepoold did not start: " + "".join(self.log))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(15)
        self.reader.join(5)
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return code


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.daemon = Daemon(defaults={"acquire_timeout_ms": 300})
        self.client = litepool.Client(self.daemon.socket)

    def tearDown(self):
        self.client.close()
        self.assertEqual(self.daemon.stop(), 0, "".join(self.daemon.log))

    def test_hello_and_ping(self):
        hello = self.client.hello()
        self.assertEqual(hello["protocol"], litepool.PROTOCOL_VERSION)
        self.assertEqual(hello["databases"], ["main"])
        self.client.ping()

    def test_values_round_trip(self):
        values = [None, 0, -2**63, 2**63 - 1, 0.1, 2.0, 1e300, 5e-324, -0.0,
                  "", "héllo ☃", b"", bytes(range(256))]
        for v in values:
            row = self.client.query("main", "SELECT ?, typeof(?)", [v, v]).rows[0]
            self.assertEqual(type(row[0]), type(v), v)
            self.assertEqual(row[0], v)
            if isinstance(v, float):
                self.assertEqual(row[1], "real")
                self.assertEqual(repr(row[0]), repr(v))  # bit for bit, sign of -0.0 too

    def test_named_parameters(self):
        r = self.client.query("main", "SELECT :a + @b + $c", {"a": 1, "b": 2, "c": 3})
        self.assertEqual(r.rows, [[6]])

    def test_lease_context_manager_releases(self):
        with self.client.lease("main", tag="py-test") as lease:
            lease.exec("CREATE TABLE t(x)")
            self.assertEqual(lease.query("INSERT INTO t VALUES (1),(2)").changes, 2)
            other = litepool.Client(self.daemon.socket)
            with self.assertRaises(litepool.Error) as e:
                other.lease("main")
            self.assertEqual(e.exception.code, "acquire_timeout")
        # Released: the other connection gets the writer at once.
        with other.lease("main") as lease2:
            self.assertEqual(lease2.query("SELECT count(*) FROM t").rows, [[2]])
        other.close()

    def test_exception_in_block_releases_and_rolls_back(self):
        self.client.exec("main", "CREATE TABLE t(x)")
        with self.assertRaises(ZeroDivisionError):
            with self.client.lease("main") as lease:
                lease.exec("BEGIN; INSERT INTO t VALUES (1)")
                1 / 0
        self.assertEqual(self.client.query("main", "SELECT count(*) FROM t").rows, [[0]])

    def test_transaction_commits_or_rolls_back(self):
        self.client.exec("main", "CREATE TABLE t(x)")
        with self.client.lease("main") as lease:
            with lease.transaction():
                lease.query("INSERT INTO t VALUES (?)", [1])
            with self.assertRaises(RuntimeError):
                with lease.transaction():
                    lease.query("INSERT INTO t VALUES (?)", [2])
                    raise RuntimeError("abort")
            self.assertEqual(lease.query("SELECT x FROM t").rows, [[1]])
            self.assertFalse(lease.release())

    def test_errors_carry_codes(self):
        with self.assertRaises(litepool.Error) as e:
            self.client.query("main", "SELEKT 1")
        self.assertEqual(e.exception.code, "sql_error")
        self.assertEqual(e.exception.sqlite_code, 1)
        with self.assertRaises(litepool.Error) as e:
            self.client.query("nope", "SELECT 1")
        self.assertEqual(e.exception.code, "unknown_database")
        with self.client.lease("main", mode="read") as lease:
            with self.assertRaises(litepool.Error) as e:
                lease.exec("CREATE TABLE t(x)")
            self.assertEqual(e.exception.code, "read_only")

    def test_auto_mode_one_shot_moves_a_write_to_the_writer(self):
        self.client.exec("main", "CREATE TABLE t(id INTEGER PRIMARY KEY, v)", mode="auto")
        r = self.client.query("main", "INSERT INTO t(v) VALUES (?) RETURNING id", ["a"],
                              mode="auto")
        self.assertEqual(r.rows, [[1]])
        self.assertEqual((r.changes, r.last_insert_rowid), (1, 1))
        # It really wrote: another connection sees the row.
        with litepool.Client(self.daemon.socket) as other:
            self.assertEqual(other.query("main", "SELECT v FROM t", mode="auto").rows, [["a"]])
            # A read in auto never needs the writer: it runs while another holds it.
            with other.lease("main"):
                self.assertEqual(self.client.query("main", "SELECT count(*) FROM t",
                                                   mode="auto").rows, [[1]])

    def test_acquire_in_auto_mode_is_refused(self):
        with self.assertRaises(litepool.Error) as e:
            self.client.lease("main", mode="auto")
        self.assertEqual(e.exception.code, "bad_request")
        self.assertIn("one-shots", e.exception.message)
        self.assertEqual(self.client.leases(), [])

    def test_decltypes_when_asked(self):
        self.client.exec("main", "CREATE TABLE d(a INTEGER, b DATETIME, c, e VARCHAR(20))")
        sql = "SELECT a, b, c, e, 1 AS x FROM d"
        expected = ["INTEGER", "DATETIME", None, "VARCHAR(20)", None]
        self.assertEqual(self.client.query("main", sql, mode="read", decltypes=True).decltypes,
                         expected)
        self.assertIsNone(self.client.query("main", sql).decltypes)
        with self.client.lease("main", mode="read") as lease:
            self.assertEqual(lease.query(sql, decltypes=True).decltypes, expected)
            self.assertIsNone(lease.query(sql).decltypes)

    def test_exec_reports_last_insert_rowid(self):
        r = self.client.exec_with_result(
            "main", "CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (7, 'a')")
        self.assertEqual((r.changes, r.last_insert_rowid), (1, 7))
        with self.client.lease("main") as lease:
            r = lease.exec_with_result("INSERT INTO t(v) VALUES ('b'); INSERT INTO t(v) VALUES ('c')")
            self.assertEqual((r.changes, r.last_insert_rowid), (2, 9))
            r = lease.exec_with_result("UPDATE t SET v = 'z' WHERE id = 7")
            self.assertEqual((r.changes, r.last_insert_rowid), (1, 0))
            # exec itself still returns the rows changed, as before.
            self.assertEqual(lease.exec("DELETE FROM t WHERE id > 7"), 2)
        r = self.client.exec_with_result("main", "INSERT INTO t(v) VALUES ('d')", mode="auto")
        self.assertEqual((r.changes, r.last_insert_rowid), (1, 8))
        self.assertEqual(self.client.exec("main", "DELETE FROM t"), 2)

    def test_values_without_a_sql_form_are_refused_before_sending(self):
        for v in [2**63, -2**63 - 1, 2**64, float("nan"), float("inf")]:
            with self.assertRaises(litepool.Error) as e:
                self.client.query("main", "SELECT ?", [v])
            self.assertEqual(e.exception.code, "bad_request", v)
        self.client.ping()  # nothing was sent: the connection is in step

    def test_closing_the_client_releases_its_leases(self):
        c = litepool.Client(self.daemon.socket)
        c.lease("main")
        c.close()
        with self.client.lease("main", wait_ms=2000):
            pass

    def test_no_daemon_is_an_io_error(self):
        with self.assertRaises(litepool.Error) as e:
            litepool.Client(os.path.join(self.daemon.dir, "missing.sock"))
        self.assertEqual(e.exception.code, "io_error")


class BackupTest(unittest.TestCase):
    def test_backup_lands_inside_backup_dir_only(self):
        backups = tempfile.mkdtemp(prefix="litepool-py-backups-")
        daemon = Daemon(backup_dir=backups)
        try:
            with litepool.Client(daemon.socket) as client:
                client.exec("main", "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)")
                reply = client.backup("main", "copy.db")
                self.assertEqual(reply["file"], os.path.join(os.path.realpath(backups), "copy.db"))
                self.assertGreater(reply["bytes"], 0)
                with self.assertRaises(litepool.Error) as refused:
                    client.backup("main", "../outside.db")
                self.assertEqual(refused.exception.code, "forbidden")
            copy = sqlite3.connect(reply["file"])
            self.assertEqual(copy.execute("SELECT count(*) FROM t").fetchone()[0], 2)
            self.assertEqual(copy.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            copy.close()
        finally:
            self.assertEqual(daemon.stop(), 0, "".join(daemon.log))
            shutil.rmtree(backups, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
