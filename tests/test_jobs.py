"""The job table: background work asked for once, leased by exactly one worker at a time
(the same compare-and-set lease as the outbox), retried with backoff, failed for good
after its last attempt, and never recorded by a worker that lost its lease. Real
databases, real threads."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from petition.core.extensions import db
from petition.jobs import runner
from petition.jobs.models import Job, JobStatus
from petition.jobs.runner import CannotBeDone, enqueue, handles, run_due_jobs

from conftest import run_at_once

RUNS: list[tuple[int, str]] = []


@handles("test.count")
def count_run(job: Job, progress) -> None:
    RUNS.append((job.id, job.details["worker_hint"] if "worker_hint" in job.details else ""))
    progress(50, "half")
    return None


@handles("test.fail")
def always_fail(job: Job, progress) -> None:
    raise RuntimeError("the printer is on fire")


@handles("test.impossible")
def impossible(job: Job, progress) -> None:
    raise CannotBeDone("The letter was deleted")


@pytest.fixture(autouse=True)
def no_runs_yet():
    RUNS.clear()
    yield
    RUNS.clear()


def stored(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def test_the_same_work_asked_twice_is_queued_once(app):
    first = enqueue("test.count", "same-work", details={"n": 1})
    second = enqueue("test.count", "same-work", details={"n": 2})
    assert first.id == second.id
    assert db.session.scalars(select(Job)).all() == [first]
    assert stored(first.id).details == {"n": 1}


def test_ten_requests_at_the_same_moment_queue_one_job(app):
    ids = run_at_once(app, 10, lambda i: enqueue("test.count", "busy-work").id)
    assert all(isinstance(i, int) for i in ids), ids
    assert len(set(ids)) == 1
    assert db.session.scalar(select(db.func.count()).select_from(Job)) == 1


def test_a_worker_runs_a_due_job_once_and_records_it_done(app):
    job = enqueue("test.count", "one")
    assert run_due_jobs("worker-a") == [job.id]
    done = stored(job.id)
    assert (done.status, done.progress, done.stage, done.attempts) == (JobStatus.DONE, 100, "done", 1)
    assert done.claimed_by is None and done.finished_at is not None and done.started_at is not None
    assert RUNS == [(job.id, "")]
    assert run_due_jobs("worker-a") == []  # nothing due any more
    assert enqueue("test.count", "one").id == job.id  # done: asking again finds it
    assert run_due_jobs("worker-a") == [] and len(RUNS) == 1


def test_workers_racing_for_the_same_jobs_run_each_exactly_once(app):
    jobs = [enqueue("test.count", f"race-{i}").id for i in range(6)]
    def work_until_idle(i: int) -> list[int]:
        done = []
        while finished := run_due_jobs(f"worker-{i}", limit=3):
            done += finished
        return done

    finished = run_at_once(app, 4, work_until_idle)
    assert not any(isinstance(result, Exception) for result in finished), finished
    assert sorted(job_id for result in finished for job_id in result) == jobs
    assert sorted(job_id for job_id, _hint in RUNS) == jobs  # each ran once, whoever got it
    assert {stored(job_id).status for job_id in jobs} == {JobStatus.DONE}


def test_a_failing_job_is_retried_later_then_fails_for_good(app, clock):
    app.config["JOB_MAX_ATTEMPTS"] = 2
    job = enqueue("test.fail", "fails")
    assert run_due_jobs("w") == [job.id]
    once = stored(job.id)
    assert (once.status, once.attempts) == (JobStatus.QUEUED, 1)
    assert "the printer is on fire" in once.last_error and once.claimed_by is None
    assert once.next_attempt_at > clock.now  # backoff: not due at once
    assert run_due_jobs("w") == []
    clock.advance(seconds=31)
    assert run_due_jobs("w") == [job.id]
    failed = stored(job.id)
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, 2)
    # Asking again queues it anew, from the start.
    again = enqueue("test.fail", "fails")
    assert again.id == job.id
    assert (stored(job.id).status, stored(job.id).attempts, stored(job.id).last_error) == (JobStatus.QUEUED, 0, None)


def test_a_job_that_can_never_succeed_fails_at_its_first_attempt(app):
    job = enqueue("test.impossible", "impossible")
    run_due_jobs("w")
    failed = stored(job.id)
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, 1)
    assert failed.last_error == "CannotBeDone: The letter was deleted"


def test_a_job_of_an_unknown_kind_fails_and_says_why(app):
    job = enqueue("test.nobody-handles-this", "orphan")
    run_due_jobs("w")
    assert stored(job.id).status == JobStatus.FAILED
    assert "No handler" in stored(job.id).last_error


def test_a_job_held_by_a_stalled_worker_waits_for_its_lease_to_run_out(app, clock):
    job = enqueue("test.count", "stalled")
    from petition.core import leases
    from datetime import timedelta

    assert leases.take(Job, job.id, "stalled-worker", clock.now, timedelta(seconds=600))
    db.session.commit()
    assert run_due_jobs("other") == []  # leased: nobody else may take it
    clock.advance(seconds=601)
    assert run_due_jobs("other") == [job.id]
    assert stored(job.id).status == JobStatus.DONE


def test_a_worker_that_lost_its_lease_keeps_nothing_of_its_work(app):
    """It stalled past its lease and another worker took the job over: its result is not recorded."""
    job = enqueue("test.count", "taken-over")
    seen = {}

    @handles("test.taken-over")
    def taken_over(job: Job, progress) -> None:
        # Meanwhile, another worker took the job (its lease ran out), on its own connection.
        with db.engine.begin() as connection:
            connection.execute(db.update(Job).where(Job.id == job.id).values(claimed_by="the-other-worker"))
        progress(60, "still going")
        seen["lost"] = progress.lost
        return None

    db.session.execute(db.update(Job).where(Job.id == job.id).values(kind="test.taken-over"))
    db.session.commit()
    try:
        assert run_due_jobs("slow-worker") == []
    finally:
        runner.HANDLERS.pop("test.taken-over")
    assert seen == {"lost": True}
    after = stored(job.id)
    assert (after.status, after.claimed_by, after.stage) == (JobStatus.QUEUED, "the-other-worker", "started")


def test_progress_is_written_for_the_page_to_show_while_the_job_runs(app):
    job = enqueue("test.progress", "progress")
    seen = []

    @handles("test.progress")
    def reports(job: Job, progress) -> None:
        progress(10, "html")
        seen.append((stored_elsewhere(app, job.id)))
        progress.MIN_INTERVAL = 0
        progress(5, "layout:3")  # never goes back
        seen.append((stored_elsewhere(app, job.id)))
        return None

    try:
        run_due_jobs("w")
    finally:
        runner.HANDLERS.pop("test.progress")
    assert seen[0] == (10, "html", "w")
    assert seen[1] == (10, "layout:3", "w")


def stored_elsewhere(app, job_id: int) -> tuple[int, str, str]:
    """The job as another process would read it (its own connection), while it runs."""
    result = {}

    def read():
        with app.app_context():
            job = db.session.get(Job, job_id)
            result["row"] = (job.progress, job.stage, job.claimed_by)
            db.session.remove()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(10)
    return result["row"]


def test_the_web_process_thread_runs_jobs_when_told_to(app):
    app.config["JOBS_IN_WEB_PROCESS"] = True
    job = enqueue("test.count", "in-the-web-process")
    runner.background_jobs.wait()
    assert stored(job.id).status == JobStatus.DONE
    assert RUNS == [(job.id, "")]


def test_finished_jobs_are_forgotten_after_a_month(app, clock):
    enqueue("test.count", "old")
    run_due_jobs("w")
    clock.advance(days=31)
    recent = enqueue("test.count", "recent")
    run_due_jobs("w")
    waiting = enqueue("test.count", "waiting")
    assert runner.prune_finished_jobs() == 1
    assert sorted(db.session.scalars(select(Job.key))) == ["recent", "waiting"]
