"""Helpers the contracts admin pages share."""


def usage_text(usage):
    if usage is None or usage.contract is None:
        return "—"
    percent = "—" if usage.percent is None else f"{usage.percent} %"
    return f"{usage.used_hours} of {usage.included_hours} h ({percent})"
