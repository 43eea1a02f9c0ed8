"""The bottom layer: what several apps need and no app owns.

Time (``zones``: UTC and local wall-clock time; ``periods``: days, ISO weeks, months, quarters
and years of a zone), the admin's building blocks (``admin``), the beat sweeps' loop
(``sweeps``) and PostgreSQL statements with server-side bound values (``sql``). Nothing here
imports another app of the portal; every app may import it. No models, so not installed.
"""
