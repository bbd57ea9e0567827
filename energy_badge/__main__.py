"""``python -m energy_badge`` is the ``energy-badge`` command."""

from energy_badge.cli import main

if __name__ == "__main__":
    main()
