"""The badge service: Hub webhook intake, live badges, a leaderboard page, and the queue's worker.

``energy-badge serve`` runs :func:`energy_badge.service.app.create_app` under uvicorn; it shares the
bulk run's SQLite state (:class:`energy_badge.bulk.state.StateStore`) and job code
(:class:`energy_badge.bulk.job.BulkJob`): a webhook writes a ``pending`` row, the worker
(:class:`energy_badge.service.worker.ServiceWorker`) measures and publishes it exactly as ``bulk`` does.
:mod:`energy_badge.service.store` is the app's view of the state (per-thread stores, caches, the
queue in the Hub's commit order, health); FastAPI is imported only by :mod:`energy_badge.service.app`.
"""
