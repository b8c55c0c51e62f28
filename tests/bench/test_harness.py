"""The scale every benchmark suite takes: one suite's own setting, else one for all."""

import pytest

from bench.harness import scale, scaled


def test_a_suite_runs_at_its_default_when_nothing_is_set(monkeypatch):
    monkeypatch.delenv("BENCH_SCALE", raising=False)
    monkeypatch.delenv("BENCH_GOVERNANCE_LINKAGE_SCALE", raising=False)
    assert scale("governance-linkage", default=0.05) == 0.05


def test_one_setting_scales_every_suite_and_a_suites_own_setting_wins(monkeypatch):
    monkeypatch.setenv("BENCH_SCALE", "0.1")
    monkeypatch.setenv("BENCH_GOVERNANCE_LINKAGE_SCALE", "1")
    assert scale("research") == 0.1
    assert scale("governance-linkage", default=0.05) == 1.0


@pytest.mark.parametrize("value", ["0", "-1", "tenth", "nan"])
def test_a_scale_that_would_run_nothing_is_refused(monkeypatch, value):
    monkeypatch.setenv("BENCH_SCALE", value)
    with pytest.raises(SystemExit, match="above 0"):
        scale("spine")


def test_a_scaled_count_never_falls_to_zero():
    assert (scaled(200, 0.001), scaled(200, 0.5), scaled(200, 2)) == (1, 100, 400)
