"""The exception hierarchy of energy-badge.

Every error the library raises on purpose is an :class:`EnergyBadgeError`. Each class carries
the process exit code the CLI uses for it, so the mapping lives in one place:

====  =====================================================================
code  meaning
====  =====================================================================
0     success
1     a check failed (an invalid file, an energy regression)
2     usage error (bad option or argument; raised by click itself)
3     this machine cannot measure (no GPU energy counter, GPU shared)
4     model or input problem (not found, gated, wrong task, bad file)
5     runtime failure (out of memory, NVML error mid-run, network down)
====  =====================================================================

Library code raises these and never exits or prints; ``energy_badge.cli`` turns them into a
one-line message on stderr and the exit code.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_CANNOT_MEASURE = 3
EXIT_INPUT = 4
EXIT_RUNTIME = 5


class EnergyBadgeError(Exception):
    """Base class of every error energy-badge raises on purpose."""

    exit_code: int = EXIT_RUNTIME


class CheckFailedError(EnergyBadgeError):
    """A check ran and failed: an invalid file given to ``validate``, a regression."""

    exit_code = EXIT_CHECK_FAILED


class UsageError(EnergyBadgeError):
    """Options that cannot be combined, or a value click could not check by itself."""

    exit_code = EXIT_USAGE


class CannotMeasureError(EnergyBadgeError):
    """This machine cannot produce a trustworthy energy measurement."""

    exit_code = EXIT_CANNOT_MEASURE


class NoEnergyCounterError(CannotMeasureError):
    """No GPU exposes an energy counter (no NVIDIA driver, no GPU, pre-Volta GPU)."""


class SharedGPUError(CannotMeasureError):
    """Another process uses the GPU, so its energy would be counted as ours."""


class InputError(EnergyBadgeError):
    """The model or an input file cannot be used."""

    exit_code = EXIT_INPUT


class ModelNotFoundError(InputError):
    """The model id, revision or local folder does not exist."""


class GatedModelError(InputError):
    """The model exists but the current credentials cannot read it."""


class WrongTaskError(InputError):
    """The model's architecture does not fit the requested task."""


class UnsafeModelError(InputError):
    """The model needs remote code or pickle weights and the user did not allow it."""


class InvalidFileError(InputError):
    """A file does not parse or does not match its JSON schema.

    Attributes:
        errors: one ``"<json path>: <message>"`` string per schema violation.
    """

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or [])


class NotCanonicalError(InputError):
    """A result that is not from the canonical workload was given where one is required."""


class HubError(InputError):
    """The Hub refused the request: repository not found, gated, no write access."""


class HubNotFoundError(ModelNotFoundError, HubError):
    """The Hub has no such repository (or it is private and the token cannot see it)."""


class HubGatedError(GatedModelError, HubError):
    """The repository is gated and the token's account has not been granted access."""


class RuntimeFailure(EnergyBadgeError):
    """Something failed while running: out of memory, NVML error mid-run, network down."""

    exit_code = EXIT_RUNTIME


class MeterError(RuntimeFailure):
    """The energy meter failed or returned an impossible reading mid-run."""


class NetworkError(RuntimeFailure):
    """The Hub could not be reached, or kept failing after bounded retries."""
