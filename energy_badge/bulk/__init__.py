"""Bulk labelling for Hub bots: a resumable queue of models, measured on one GPU or many (Ray),
with throttled Hub writes and a report.

The modules, in the order a run uses them:

``inputs``      model ids from a file (``org/name[@revision]``, ``#`` comments) or a Hub query
``config``      :class:`~energy_badge.bulk.config.BulkConfig` (the settings), ``Plan``, ``Summary``
``state``       the SQLite state file: one row per (model, sha, task, workload version, hardware class)
``throttle``    token buckets for Hub reads and writes (defaults and their justification)
``context``     what one run's parts share: stop flag, sleep, throttles, Hub reads, rating table
``plan``        resolving revisions, opt-outs, writing the rows
``executors``   where measurements run: this process, or Ray tasks (``num_gpus`` each)
``codec``       how results cross the worker, state and service boundaries
``run``         the measuring loop: validate, rate, store, retry with backoff
``publishing``  the publisher thread: throttled writes through the Hub gateway, closed-PR opt-out
``job``         :class:`~energy_badge.bulk.job.BulkJob`: plan, measure, publish, resume
``report``      the CSV and self-contained HTML report

It composes the project's stages (``measure_model``, ``rate``, ``publish_plan``,
``hub.commit_plan``) and reimplements none of them. ``energy-badge bulk`` and
``energy-badge bulk-report`` are its CLI; the badge service's worker runs the same job.
"""
