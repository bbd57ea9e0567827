"""energy-badge: an Energy Star for AI models.

The package reads as the data flow of one measurement::

    workload -> run -> meter -> result -> rating -> render -> card -> hub

Each stage is a module with a plain data object between stages; ``energy_badge.cli`` is a thin
shell over them. Heavy libraries (torch, transformers, zeus) are imported inside the functions
that need them, so importing this package stays fast.
"""

__version__ = "0.1.0"
