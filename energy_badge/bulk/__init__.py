"""Bulk labelling for Hub bots: a resumable queue of models, measured on one GPU or many (Ray),
with throttled Hub writes and a report.

The modules, in the order a run uses them:

``inputs``     model ids from a file (``org/name[@revision]``, ``#`` comments) or a Hub query
``state``      the SQLite state file: one row per (model, sha, task, workload version, hardware class)
``throttle``   token buckets for Hub reads and writes (defaults and their justification)
``executors``  where measurements run: this process, or Ray tasks (``num_gpus`` each)
``job``        :class:`~energy_badge.bulk.job.BulkJob`: plan, measure, publish, resume
``report``     the CSV and self-contained HTML report

It composes the project's stages (``measure_model``, ``rate``, ``publish_plan``, ``hub.publish``)
and reimplements none of them. ``energy-badge bulk`` and ``energy-badge bulk-report`` are its CLI.
"""
