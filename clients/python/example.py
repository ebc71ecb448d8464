"""A ten-line litepool example: python3 example.py [SOCKET]"""
import sys

import litepool

with litepool.Client(sys.argv[1] if len(sys.argv) > 1 else None) as db:
    with db.lease("main", tag="example") as lease:
        lease.exec("CREATE TABLE IF NOT EXISTS greetings(text TEXT)")
        with lease.transaction():
            lease.query("INSERT INTO greetings VALUES (?)", ["hello from python"])
        print(lease.query("SELECT text, count(*) FROM greetings").rows)
