"""Production gunicorn settings: ``gunicorn portal.wsgi`` reads this file from the working folder.

The work is CPU-bound (template rendering and short queries on a near database), so one
thread per process is the default: on the benchmark machine, 4 threads per worker lowered the
rate it sustains (GIL contention). gthread still gives keep-alive connections. Scale with
processes (GUNICORN_WORKERS), and raise GUNICORN_THREADS only where queries are slow.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Workers fork from a master that has imported Django: a recycled worker serves again within
# milliseconds instead of spending a second of CPU on imports while the others take its load.
preload_app = True
# Recycle workers now and then so a slow leak in any library cannot grow without bound.
max_requests = 50000
max_requests_jitter = 5000
timeout = 30
graceful_timeout = 30
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG")  # None: off; "-" for stdout
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    # Nothing should have opened a database connection while the master loaded the app; if
    # anything did, a worker must not share its socket with its siblings.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
