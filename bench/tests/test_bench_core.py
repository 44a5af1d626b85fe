"""The benchmark's median, verdicts and table (no timing here: figures come from `make bench`)."""

import json

import pytest

from bench import core


@pytest.mark.parametrize("values, expected", [([3], 3), ([5, 1, 3], 3), ([4, 1, 3, 2], 2.5), ([2.0, 2.0], 2.0)])
def test_given_samples_when_median_then_middle_value(values, expected):
    assert core.median(values) == expected


def test_given_no_samples_when_median_then_error():
    with pytest.raises(ValueError):
        core.median([])


def test_given_baseline_when_measured_then_ratio_of_medians_and_verdict():
    base = core.measured("pg_insert", [1000, 3000, 2000], "rows/s")
    good = core.measured("event_append", [1300, 1100, 1200], "events/s", baseline=base, at_least=0.6)
    bad = core.measured("command", [500, 600, 700], "events/s", baseline=base, at_least=0.35)
    assert (base.value, base.passed, base.status) == (2000, None, "info")
    assert (good.value, good.ratio, good.passed, good.status) == (1200, 0.6, True, "PASS")
    assert (bad.ratio, bad.passed, bad.status) == (0.3, False, "FAIL")
    assert good.target == "≥ 0.6 × pg_insert"
    assert good.baseline_name == "pg_insert" and good.baseline_value == 2000


def test_given_at_most_when_measured_then_lower_is_better():
    ten = core.measured("load_10", [1.0], "ms")
    assert core.measured("load_1000", [1.9], "ms", baseline=ten, at_most=2).passed is True
    assert core.measured("load_1000", [2.1], "ms", baseline=ten, at_most=2).passed is False


def test_given_no_baseline_when_bounds_then_value_is_judged():
    latency = core.measured("relay_p99", [30, 20, 10], "ms", at_most=25)
    assert (latency.value, latency.ratio, latency.passed, latency.target) == (20, None, True, "≤ 25 ms")


def test_given_skipped_baseline_when_measured_then_no_ratio_and_no_verdict():
    base = core.skipped("eventsourcing_new", "not installed", unit="events/s")
    figure = core.measured("command_new_vs_es", [900], "events/s", baseline=base, at_least=1.5)
    assert (figure.ratio, figure.passed) == (None, None)
    assert "skipped: not installed" in figure.note
    assert base.status == "skipped: not installed" and base.value is None


def test_given_figures_when_rendered_then_one_row_each_with_columns_and_notes():
    base = core.measured("pg_insert", [2300], "rows/s")
    figures = [base, core.measured("event_append", [1500], "events/s", baseline=base, at_least=0.6, note="n1"),
               core.skipped("drf_hello_project", "port 18081 is in use", unit="req/s")]
    lines = core.render_table(figures).splitlines()
    assert lines[0].split() == ["figure", "value", "baseline", "ratio", "target", "result"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split()[:3] == ["pg_insert", "2,300", "rows/s"]
    assert "pg_insert 2,300" in lines[3] and "0.65×" in lines[3] and lines[3].endswith("PASS")
    assert lines[4].startswith("drf_hello_project") and lines[4].endswith("skipped: port 18081 is in use")
    assert "- event_append: n1" in lines


def test_given_figure_when_serialised_then_json_carries_status_and_samples():
    figure = core.measured("nats_publish", [4000, 5000, 4500], "msg/s")
    data = json.loads(json.dumps(figure.to_dict()))
    assert data["value"] == 4500 and data["samples"] == [4000, 5000, 4500] and data["status"] == "info"


@pytest.mark.parametrize("value, unit, text", [(None, "", "—"), (2345.6, "rows/s", "2,346 rows/s"),
                                               (12.345, "ms", "12.3 ms"), (0.456, "ms", "0.46 ms")])
def test_given_numbers_when_formatted_then_readable(value, unit, text):
    assert core.format_number(value, unit) == text


def test_given_context_when_scaled_and_ported_then_quick_and_offsets_apply(tmp_path):
    ctx = core.Context(reps=3, quick=True, conninfo="", database_url="", nats_url="", var_dir=tmp_path, port_base=18080)
    assert (ctx.scale(1000, 100), ctx.port(2)) == (100, 18082)


def test_given_module_that_raises_when_run_then_figure_is_skipped_with_reason(tmp_path):
    class Broken:
        NAME = "broken"

        @staticmethod
        def run(ctx):
            raise RuntimeError("no server")

    ctx = core.Context(reps=1, quick=True, conninfo="", database_url="", nats_url="", var_dir=tmp_path,
                       port_base=18080, modules={"bench.broken": Broken}, log=lambda text: None)
    [figure] = ctx.run_module("bench.broken")
    assert figure.status == "skipped: RuntimeError: no server"


def test_given_earlier_reports_when_previous_values_then_newest_of_same_mode_wins():
    reports = [
        {"started_at": "2026-11-29T10:00:00", "options": {"quick": False}, "figures": [
            {"name": "pg_insert", "value": 2000.0}, {"name": "relay_latency_p50", "value": 3.0}]},
        {"started_at": "2026-11-30T10:00:00", "options": {"quick": True}, "figures": [
            {"name": "pg_insert", "value": 1000.0}, {"name": "kiosk_products", "value": None}]},
        {"started_at": "2026-11-29T12:00:00", "options": {"quick": False}, "figures": [
            {"name": "pg_insert", "value": 2200.0}]},
    ]
    previous = core.previous_values(reports, quick=False)
    assert previous == {"pg_insert": (2200.0, "2026-11-29T12:00:00"), "relay_latency_p50": (3.0, "2026-11-29T10:00:00")}
    assert core.previous_values(reports, quick=True)["pg_insert"] == (1000.0, "2026-11-30T10:00:00")


def test_given_previous_values_when_rendered_then_change_column_shows_relative_change():
    figures = [core.measured("pg_insert", [2300], "rows/s"), core.measured("nats_publish", [4000], "msg/s"),
               core.skipped("drf_hello_project", "port in use", unit="req/s")]
    core.with_previous(figures, {"pg_insert": (2000.0, "t1"), "drf_hello_project": (900.0, "t1")})
    lines = core.render_table(figures).splitlines()
    assert lines[0].split()[-2:] == ["vs", "previous"]
    assert lines[2].endswith("+15.0 %") and lines[3].endswith("info") and lines[4].endswith("skipped: port in use")
    assert figures[0].to_dict()["previous_value"] == 2000.0 and figures[2].change is None
    assert core.format_change(-0.04) == "−4.0 %"
