"""Queueing and running background jobs.

``enqueue`` stores a job under a key (the same work asked for twice is queued once);
``run_due_jobs`` is what a worker runs: it leases each due job (core/leases.py, as the
outbox does), runs the handler registered for its kind, and records the result in
the same transaction as what the handler stored, with a compare-and-set on its
lease: a worker that lost its lease (it stalled past JOB_LEASE_SECONDS and another
took the job over) stores nothing.

Who runs jobs: `flask worker` (with the mail) on any number of hosts, or, with
JOBS_IN_WEB_PROCESS (the development default), a thread in the web process.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..core import leases
from ..core.clock import utcnow
from ..core.extensions import db
from .models import Job, JobStatus

log = logging.getLogger("petition.jobs")

# kind -> handler(job, progress) -> the id of the document it stored, or None
Handler = Callable[[Job, "Progress"], int | None]
HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler of a kind of job."""
    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = handler
        return handler
    return register


class CannotBeDone(Exception):
    """The job can never succeed as asked (its letter is gone, say): it fails at once."""


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])


# -- asking -------------------------------------------------------------------------------


def enqueue(kind: str, key: str, *, letter_id: int | None = None, requested_by_id: int | None = None,
            details: dict | None = None, makes_document: bool = False) -> Job:
    """The job for ``key``: queued now, or the one already waiting, running or done.
    A failed job is queued again (a compare-and-set on the state read), and so is a
    done one that ``makes_document`` whose document was since deleted. Commits."""
    job = db.session.scalar(select(Job).where(Job.key == key))
    if job is None:
        job = Job(kind=kind, key=key, letter_id=letter_id, requested_by_id=requested_by_id, details=details or {})
        db.session.add(job)
        try:
            db.session.commit()
        except IntegrityError:  # the same work was asked for at the same moment: that job is this one
            db.session.rollback()
            job = db.session.scalar(select(Job).where(Job.key == key))
        else:
            _wake(current_app._get_current_object())
        return job
    if job.status == JobStatus.FAILED or (makes_document and job.status == JobStatus.DONE and job.document_id is None):
        again = db.session.execute(
            update(Job).where(Job.id == job.id, Job.status == job.status, Job.attempts == job.attempts)
            .values(status=JobStatus.QUEUED, attempts=0, progress=0, stage="", last_error=None,
                    next_attempt_at=utcnow(), claimed_by=None, claimed_until=None, finished_at=None,
                    requested_by_id=requested_by_id)
            .execution_options(synchronize_session=False))
        db.session.commit()
        db.session.refresh(job)
        if again.rowcount == 1:
            _wake(current_app._get_current_object())
    return job


# -- running -------------------------------------------------------------------------------


class Progress:
    """What a running job reports: a percentage and a stage (a machine value, e.g.
    "layout:37"), written at most twice a second on a connection of its own, which
    also keeps the lease. After a lost lease it stops writing."""

    MIN_INTERVAL = 0.5

    def __init__(self, job_id: int, worker: str, lease: timedelta) -> None:
        self.job_id, self.worker, self.lease = job_id, worker, lease
        self.lost = False
        self._last = 0.0
        self._percent = 0

    def __call__(self, percent: int, stage: str) -> None:
        now = time.monotonic()
        percent = max(self._percent, min(100, max(0, int(percent))))  # never goes back
        if self.lost or (now - self._last < self.MIN_INTERVAL and percent < 100):
            return
        self._last, self._percent = now, percent
        try:
            kept = leases.extend(Job, self.job_id, self.worker, self.lease, progress=percent, stage=stage[:100])
        except DBAPIError as error:  # the page shows older progress for a moment; the job goes on
            log.warning("Job #%s: progress not recorded (%s)", self.job_id, error)
            return
        if not kept:
            self.lost = True
            log.warning("Job #%s: lease lost by %s", self.job_id, self.worker)


def run_due_jobs(worker: str, limit: int = 5, only_ids: list[int] | None = None) -> list[int]:
    """Run the due jobs this worker manages to lease, one after the other; the ids of those
    it finished (done or failed)."""
    finished = []
    for job_id in leases.due_ids(Job, utcnow(), limit, only_ids):
        now = utcnow()
        if not leases.take(Job, job_id, worker, now, _lease()):
            db.session.rollback()
            continue
        db.session.execute(update(Job).where(Job.id == job_id)
                           .values(started_at=now, progress=0, stage="started")
                           .execution_options(synchronize_session=False))
        db.session.commit()
        if _run(job_id, worker):
            finished.append(job_id)
    return finished


def _run(job_id: int, worker: str) -> bool:
    job = db.session.get(Job, job_id, populate_existing=True)
    progress = Progress(job_id, worker, _lease())
    try:
        handler = HANDLERS.get(job.kind)
        if handler is None:
            raise CannotBeDone(f"No handler for jobs of kind {job.kind!r}")  # not for people: a diagnostic
        document_id = handler(job, progress)
        # Done, in the same transaction as what the handler stored, if this worker still holds it.
        done = db.session.execute(
            update(Job).where(Job.id == job_id, Job.claimed_by == worker)
            .values(status=JobStatus.DONE, progress=100, stage="done", finished_at=utcnow(), document_id=document_id,
                    attempts=Job.attempts + 1, claimed_by=None, claimed_until=None, last_error=None)
            .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            db.session.rollback()
            log.warning("Job #%s: lease lost by %s; its result is not kept", job_id, worker)
            return False
        db.session.commit()
        log.info("Job #%s (%s) done by %s", job_id, job.kind, worker)
        return True
    except Exception as error:  # noqa: BLE001 - recorded as the job's failure, whatever it is
        db.session.rollback()
        _record_failure(job_id, worker, error)
        return True


def _record_failure(job_id: int, worker: str, error: Exception) -> None:
    """A failed attempt: tried again later with backoff, or failed for good after
    JOB_MAX_ATTEMPTS (at once for CannotBeDone). The error is a diagnostic, in English."""
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None or job.claimed_by != worker:
        db.session.rollback()
        return
    attempts = job.attempts + 1
    final = isinstance(error, CannotBeDone) or attempts >= current_app.config["JOB_MAX_ATTEMPTS"]
    described = f"{type(error).__name__}: {error}"[:2000]
    log.log(logging.ERROR if final else logging.WARNING, "Job #%s failed (attempt %s): %s", job_id, attempts,
            described, exc_info=not isinstance(error, CannotBeDone))
    values = dict(attempts=attempts, last_error=described, claimed_by=None, claimed_until=None, stage="")
    if final:
        values.update(status=JobStatus.FAILED, finished_at=utcnow())
    else:
        values.update(next_attempt_at=utcnow() + timedelta(seconds=30 * 2 ** (attempts - 1)))
    db.session.execute(update(Job).where(Job.id == job_id, Job.claimed_by == worker).values(**values)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def prune_finished_jobs(older_than: timedelta = timedelta(days=30)) -> int:
    """Forget jobs finished long ago (what they made stays, in documents)."""
    result = db.session.execute(delete(Job).where(Job.status != JobStatus.QUEUED,
                                                  Job.finished_at < utcnow() - older_than))
    db.session.commit()
    return result.rowcount


# -- in the web process ----------------------------------------------------------------------


class BackgroundJobs:
    """With JOBS_IN_WEB_PROCESS (development: `make run` has no worker), one thread per
    process runs the due jobs after each new one is queued. In production leave it off:
    a PDF of 10,000 endorsers would take a web worker's CPU for many seconds."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Flask] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def submit(self, app: Flask) -> None:
        with self._lock:
            # A gunicorn worker forked from a parent inherits no running thread.
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="jobs", daemon=True)
                self._thread.start()
        self._queue.put(app)

    def wait(self) -> None:
        """Block until everything submitted so far was tried (for tests)."""
        self._queue.join()

    def _run(self) -> None:
        worker = f"web-{socket.gethostname()}-{os.getpid()}"
        while True:
            app = self._queue.get()
            try:
                with app.app_context():
                    try:
                        while run_due_jobs(worker):
                            pass
                    finally:
                        db.session.remove()
            except Exception:  # the worker (or the next submit) will try again; keep this thread alive
                log.exception("Background jobs failed")
            finally:
                self._queue.task_done()


background_jobs = BackgroundJobs()


def _wake(app: Flask) -> None:
    if app.config["JOBS_IN_WEB_PROCESS"]:
        background_jobs.submit(app)
