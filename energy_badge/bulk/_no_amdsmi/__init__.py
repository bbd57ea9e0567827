"""A folder put first on ``PYTHONPATH`` for Ray workers when the ``amdsmi`` wheel is broken here.

See :func:`energy_badge.bulk.executors.import_ray`: its ``amdsmi`` package raises ImportError, which
ray and Zeus both take as "no AMD GPU".
"""
