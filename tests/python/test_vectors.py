"""The shared protocol test vectors (tests/vectors/protocol_vectors.json)
run through litepool.Client.raw_call, each against a fresh daemon.
tests/client/vectors_test.cc runs the same file through the C++ client.

A vector: {"name", "setup": [requests], "request", "expect"}. The setup
requests run first on the same connection and must each answer ok; the
string "$lease" anywhere in a request stands for the lease id of the last
setup reply that carried one. The request is sent exactly as written (no id
is added). "expect" matches the reply as a recursive subset: an object's
listed keys must be present and match, an array must have the same length
and matching elements, a scalar must be equal and of the same JSON kind (1
is not 1.0), and {"$type": KIND} matches any value of that kind (string,
integer, float, number, boolean, null, array, object).
"""
import json
import os
import unittest

import litepool
from test_litepool import Daemon

VECTORS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "..", "vectors", "protocol_vectors.json")


def kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "other"


def mismatch(expect, actual, path="reply"):
    """None if ``actual`` matches ``expect``, else where and how not."""
    if isinstance(expect, dict) and list(expect) == ["$type"]:
        got = kind(actual)
        if expect["$type"] == got or (expect["$type"] == "number" and got in ("integer", "float")):
            return None
        return "%s: expected any %s, got %r" % (path, expect["$type"], actual)
    if isinstance(expect, dict):
        if not isinstance(actual, dict):
            return "%s: expected an object, got %r" % (path, actual)
        for key, value in expect.items():
            if key not in actual:
                return "%s: missing key %r" % (path, key)
            inner = mismatch(value, actual[key], "%s.%s" % (path, key))
            if inner:
                return inner
        return None
    if isinstance(expect, list):
        if not isinstance(actual, list) or len(actual) != len(expect):
            return "%s: expected %r, got %r" % (path, expect, actual)
        for i, (e, a) in enumerate(zip(expect, actual)):
            inner = mismatch(e, a, "%s[%d]" % (path, i))
            if inner:
                return inner
        return None
    if kind(expect) != kind(actual) or expect != actual:
        return "%s: expected %r, got %r" % (path, expect, actual)
    return None


def substitute(request, lease):
    """``request`` with every "$lease" string replaced by ``lease``."""
    if request == "$lease":
        return lease
    if isinstance(request, dict):
        return {k: substitute(v, lease) for k, v in request.items()}
    if isinstance(request, list):
        return [substitute(v, lease) for v in request]
    return request


def load_vectors():
    with open(VECTORS_PATH, encoding="utf-8") as f:
        return json.load(f)


class VectorsTest(unittest.TestCase):
    """One test method per vector, added below."""

    def run_vector(self, vector):
        daemon = Daemon()
        try:
            with litepool.Client(daemon.socket) as client:
                lease = None
                for setup in vector.get("setup", []):
                    reply = client.raw_call(substitute(setup, lease))
                    self.assertIs(reply.get("ok"), True, "setup %r -> %r" % (setup, reply))
                    lease = reply.get("lease", lease)
                request = substitute(vector["request"], lease)
                reply = client.raw_call(request)
                problem = mismatch(vector["expect"], reply)
                self.assertIsNone(problem, "\nrequest %s\nreply   %s" % (
                    json.dumps(request), json.dumps(reply)))
        finally:
            self.assertEqual(daemon.stop(), 0, "".join(daemon.log))


def _add_vector_tests():
    for vector in load_vectors():
        def test(self, vector=vector):
            self.run_vector(vector)
        test.__doc__ = "vector %s" % vector["name"]
        setattr(VectorsTest, "test_" + vector["name"], test)


_add_vector_tests()


class VectorsFileTest(unittest.TestCase):
    def test_names_unique(self):
        names = [v["name"] for v in load_vectors()]
        self.assertEqual(len(names), len(set(names)))

    def test_subset_semantics(self):
        self.assertIsNone(mismatch({"a": 1}, {"a": 1, "b": 2}))
        self.assertIsNotNone(mismatch({"a": 1}, {"b": 1}))
        self.assertIsNotNone(mismatch(2.0, 2))
        self.assertIsNotNone(mismatch(1, True))
        self.assertIsNotNone(mismatch([1], [1, 2]))
        self.assertIsNone(mismatch([{"a": 1}], [{"a": 1, "b": 0}]))
        self.assertIsNone(mismatch({"$type": "number"}, 2.5))
        self.assertIsNotNone(mismatch({"$type": "string"}, 2))


class RawCallTest(unittest.TestCase):
    def test_returns_error_replies_and_sends_as_is(self):
        daemon = Daemon()
        try:
            with litepool.Client(daemon.socket) as client:
                reply = client.raw_call({"op": "frobnicate", "id": "x"})
                self.assertEqual(reply["ok"], False)
                self.assertEqual(reply["error"]["code"], "unknown_op")
                self.assertEqual(reply["id"], "x")
                self.assertNotIn("id", client.raw_call({"op": "ping"}))
        finally:
            self.assertEqual(daemon.stop(), 0, "".join(daemon.log))


if __name__ == "__main__":
    unittest.main()
