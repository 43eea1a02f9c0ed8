"""How both sides' lists are timed: one module, imported by bench/peers/ours_list.py (our
virtualenv) and bench/peers/helpdesk_side.py (the peer's), so the two are measured alike.
Nothing here imports Django at module level: each side has set up its own first."""

import statistics
import time


def measure(client, paths, repeat):
    """What a browser fetches to show one list: ``paths`` requested in order through Django's
    handler (a test client, no network), after one warm-up round and one counted round.

    Returns the median of ``repeat`` rounds (a round is all the paths one after the other), the
    queries of one round, and each path's own median and queries."""
    from django.db import connection

    for path in paths:
        assert client.get(path).status_code == 200, path
    queries = {path: [] for path in paths}
    current = []

    def count(execute, sql, params, many, context):
        # A wrapper, not connection.queries: request_started resets that list.
        current.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        for path in paths:
            current.clear()
            client.get(path)
            queries[path] = len(current)
    rounds, each = [], {path: [] for path in paths}
    for _ in range(repeat):
        total = 0.0
        for path in paths:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (path, response.status_code)
            each[path].append(elapsed)
            total += elapsed
        rounds.append(total)
    return {
        "median_ms": round(statistics.median(rounds), 1),
        "queries": sum(queries.values()),
        "requests": [
            {
                "path": path,
                "median_ms": round(statistics.median(each[path]), 1),
                "queries": queries[path],
            }
            for path in paths
        ],
    }
