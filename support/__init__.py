"""The support page of each service: how to reach support, when, and what the plan promises.

A page over several apps (sla, maintenance, contracts), so it lives above them: no app imports
this package, and it needs no models (hence no ``INSTALLED_APPS`` entry).
"""
