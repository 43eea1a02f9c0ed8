"""Plan sections applied and exported by other apps, registered from their ``AppConfig.ready``.

``sla`` owns the plan format but must not import the apps built on it (maintenance, …); each of
those registers how it applies and exports its part, so the loader and the admin's export reach
every section while the imports keep pointing one way.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    name: str
    # apply(*, service, plan, now, report): write this app's part of ``plan`` for ``service``.
    apply: Callable
    # export(*, service) -> dict: this app's top-level keys of the plan file.
    export: Callable


_sections = {}


def register(name, *, apply, export):
    _sections[name] = Section(name=name, apply=apply, export=export)


def registered():
    return list(_sections.values())
