"""Targets as the plan words them: "MTBF > 720 hours", "resolution rate > 95 %" are strict, so
a figure exactly on such a target is missed; a bare target is reached by a figure on it."""

from datetime import date

from core import periods
from metrics.figures import MET, MISSED, duration_target, percent_target, score_target
from metrics.report import build_report

from .conftest import NOW


def november_figures(service):
    report = build_report(
        service=service, period=periods.containing(periods.MONTH, date(2026, 11, 1), "UTC"), now=NOW
    )
    return {item.key: item for item in report.targets}


def test_mtbf_exactly_on_a_strict_target_is_missed(november, metrics_service):
    """November: 720 h observed, one outage → MTBF 720 h. ">720h" (Roofing's "MTBF > 720
    hours") is missed by it; the bare 720h of the fixture is met by the same month."""
    assert november_figures(metrics_service)["mtbf"].result == MET
    targets = metrics_service.targets
    targets.strict = ["mtbf"]
    targets.save(update_fields=["strict"])
    item = november_figures(metrics_service)["mtbf"]
    assert (item.display, item.target_display, item.result) == ("720 h", "> 720 h", MISSED)


def test_each_kind_of_target_misses_exactly_on_when_strict():
    """Times to repair: < 4 h missed by 4 h, met by 3 h 59 min; rates and scores: > 95 %
    missed by 95.0 %, > 4.5 missed by 4.50; bare ones are met on the dot."""
    mttr = duration_target("4h", higher_is_better=False, strict=True)
    assert (mttr.display, mttr.judge(240), mttr.judge(239)) == ("< 4 h", MISSED, MET)
    assert duration_target("4h", higher_is_better=False).judge(240) == MET
    rate = percent_target(95, strict=True)
    assert (rate.display, rate.judge(rate.number), rate.judge(95.1)) == ("> 95.0 %", MISSED, MET)
    assert percent_target(95).judge(percent_target(95).number) == MET
    csat = score_target(4.5, strict=True)
    assert (csat.display, csat.judge(csat.number)) == ("> 4.50 / 5", MISSED)
