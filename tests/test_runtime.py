"""crossmodal.runtime: the job wrapper's log, its one-line errors and its CPU line."""

import time

import pytest

from crossmodal import runtime
from crossmodal.store import ArtifactError


def _last_cpu_seconds(log_path) -> float:
    last = log_path.read_text().splitlines()[-1]
    cpu = runtime.logged_cpu_seconds(last)
    assert cpu is not None, last
    return cpu


def test_the_log_ends_with_the_jobs_cpu_time(tmp_path):
    log = tmp_path / "job.log"
    before = runtime.cpu_seconds()

    def busy():
        start = time.process_time()
        while time.process_time() - start < 0.3:
            pass

    runtime.run(busy, str(log))
    # the process's CPU since it started: at least what it had before plus the 0.3 s burnt
    assert _last_cpu_seconds(log) >= before + 0.3 - 0.01
    assert _last_cpu_seconds(log) <= runtime.cpu_seconds() + 0.01


def test_a_user_error_is_one_line_and_the_cpu_line_still_ends_the_log(tmp_path, capsys):
    log = tmp_path / "job.log"

    def fails():
        raise ArtifactError("data/x.parquet: no column 'image'; re-extract it")

    with pytest.raises(SystemExit) as exit_info:
        runtime.run(fails, str(log))
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip() == (
        "crossmodal error: data/x.parquet: no column 'image'; re-extract it")
    lines = log.read_text().splitlines()
    assert lines[0] == "crossmodal error: data/x.parquet: no column 'image'; re-extract it"
    assert _last_cpu_seconds(log) > 0


def test_any_other_error_keeps_its_traceback_in_the_log(tmp_path):
    log = tmp_path / "job.log"

    def buggy():
        raise ValueError("a programming error")

    with pytest.raises(ValueError, match="a programming error"):
        runtime.run(buggy, str(log))
    text = log.read_text()
    assert "Traceback" in text and "ValueError: a programming error" in text
    assert _last_cpu_seconds(log) > 0  # the CPU line still ends the log


def test_a_step_logs_its_start_and_its_duration(tmp_path):
    log = tmp_path / "job.log"

    def job():
        with runtime.step("fitting the thing"):
            pass

    runtime.run(job, str(log))
    first, second = log.read_text().splitlines()[:2]
    assert first.endswith("fitting the thing …") and second.endswith("… done in 0 s")
