"""Stands in for a broken ``amdsmi`` (no ROCm ``libamd_smi.so``): importing it says it is unavailable.

Only on ``PYTHONPATH`` when :func:`energy_badge.bulk.executors.import_ray` found ``import amdsmi``
failing with something other than ImportError.
"""

raise ImportError("amdsmi is unavailable here (libamd_smi.so not found); hidden by energy-badge")
