"""The grammar's vectors (tests/vectors/request_lines.json, docs/protocol.md
"Request lines") sent as raw bytes to the real daemon, and the lines the
Python client's own encoder writes for the accepted ones.

A vector: {"name", "rule", "line" (its UTF-8 bytes) or "line_hex", "expect"}.
"expect" is {"error": code, "message": text[, "id": echo]} or
{"request": fields[, "id": echo]}; the daemon must answer a refused line
with exactly that code, message and id, and an accepted one with anything
but bad_request or unknown_op (a release of a malformed lease answers
unknown_lease, say). A query "SELECT ?, ..." must return its parameters. "daemon":
"no_reply" marks a line the framing drops (an empty one).
"""
import base64
import json
import os
import socket
import unittest

import litepool
from test_litepool import Daemon

VECTORS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "vectors", "request_lines.json")


def load_vectors():
    with open(VECTORS_PATH, encoding="utf-8") as f:
        return json.load(f)


def line_bytes(vector):
    if "line_hex" in vector:
        return bytes.fromhex(vector["line_hex"])
    return vector["line"].encode("utf-8")


def same(expect, got):
    """JSON values equal and of the same kind (1 is not 1.0, nor True)."""
    if type(expect) is not type(got):
        return False
    if isinstance(expect, list):
        return len(expect) == len(got) and all(same(e, g) for e, g in zip(expect, got))
    if isinstance(expect, dict):
        return expect.keys() == got.keys() and all(same(expect[k], got[k]) for k in expect)
    return expect == got


def python_value(value):
    """A vector's decoded value as the Python client takes it."""
    if isinstance(value, dict):
        return base64.b64decode(value["$blob"])
    return value


class RequestLinesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.vectors = load_vectors()
        cls.daemon = Daemon()

    @classmethod
    def tearDownClass(cls):
        code = cls.daemon.stop()
        assert code == 0, "".join(cls.daemon.log)

    def test_vectors_file(self):
        names = [v["name"] for v in self.vectors]
        self.assertEqual(len(names), len(set(names)))
        self.assertGreaterEqual(len(names), 100)
        for v in self.vectors:
            self.assertNotIn(b"\n", line_bytes(v), v["name"])

    def test_daemon_answers_as_the_vectors_say(self):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(self.daemon.socket)
            replies = sock.makefile("rb")
            for v in self.vectors:
                with self.subTest(v["name"]):
                    line, expect = line_bytes(v), v["expect"]
                    if v.get("daemon") == "no_reply":
                        sock.sendall(line + b'\n{"id":"after","op":"ping"}\n')
                        self.assertEqual(json.loads(replies.readline()).get("id"), "after")
                        continue
                    sock.sendall(line + b"\n")
                    reply = json.loads(replies.readline())
                    if "error" in expect:
                        self.assertIs(reply["ok"], False, reply)
                        self.assertEqual(reply["error"]["code"], expect["error"])
                        self.assertEqual(reply["error"]["message"], expect["message"])
                    else:
                        code = reply.get("error", {}).get("code")
                        self.assertNotIn(code, ("bad_request", "unknown_op"), reply)
                        request = expect["request"]
                        if request.get("sql", "").startswith("SELECT ?"):
                            self.assertIs(reply["ok"], True, reply)
                            self.assertTrue(same(request["params"], reply["rows"][0]), reply)
                    if "id" in expect:
                        self.assertTrue(same(json.loads(expect["id"]), reply.get("id")), reply)
                    else:
                        self.assertNotIn("id", reply)
                    if "lease" in reply:  # an acquire: give the writer back to the next line
                        sock.sendall(b'{"op":"release","lease":"%s"}\n' % reply["lease"].encode())
                        self.assertIs(json.loads(replies.readline())["ok"], True)

    def test_client_encoder_lines_accepted(self):
        """What litepool.Client writes for each accepted query is accepted,
        and a "SELECT ?" returns its value."""
        checked = 0
        with litepool.Client(self.daemon.socket) as client:
            for v in self.vectors:
                request = v["expect"].get("request")
                if not request or request["op"] != "query" or "db" not in request:
                    continue
                with self.subTest(v["name"]):
                    params = request.get("params")
                    if isinstance(params, dict):
                        params = {k: python_value(x) for k, x in params.items()}
                    elif params is not None:
                        params = [python_value(x) for x in params]
                    mode = "auto" if request.get("auto_mode") else request.get("mode", "write")
                    result = client.query(request["db"], request["sql"], params, mode=mode)
                    if request["sql"].startswith("SELECT ?"):
                        self.assertEqual(list(result)[0], params)
                    checked += 1
        self.assertGreaterEqual(checked, 20)


if __name__ == "__main__":
    unittest.main()
