"""The shared part of the runners whose queries are not text: images, audio clips, image prompts.

A media workload hands each query's decoded input through ``workload.input_at(index)``: an RGB PIL
image, a 1-D float32 array of 16 kHz samples, or a prompt string. ``prepare`` (the runner's, with
this class's :meth:`MediaRunner._encode_positions`) decodes every query and runs the model's
preprocessing (image processor, feature extractor) on it before any measured window, and leaves
the tensors on the device in the model's dtype, so the measured pass holds the model's work only.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from energy_badge.errors import UsageError
from energy_badge.run.runner import Batch, TaskRunner

__all__ = ["MediaRunner"]


class MediaRunner(TaskRunner):
    """A runner fed by ``workload.input_at(index)`` instead of text fields.

    Subclasses implement :meth:`_encode_media` (the inputs of one batch -> a :class:`Batch`), and
    the usual ``_forward`` / ``_decode``; ``_cost`` gives each query's cost proxy.
    """

    #: The name of :meth:`cost_proxy`'s values (``pixels``, ``audio_seconds``, ``prompt_characters``).
    cost_name = "inputs"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        forward = getattr(self.model, "forward", None)
        self._accepted = set(inspect.signature(forward).parameters) if callable(forward) else set()

    def _check_workload(self, workload: Any) -> None:
        if not callable(getattr(workload, "input_at", None)):
            raise UsageError(f"a {self.task} workload must give its decoded inputs (input_at)")

    def _encode_positions(
        self, workload: Any, queries: list[dict[str, Any]], positions: Sequence[int]
    ) -> tuple[Batch, int, Sequence[float]]:
        """Decode the inputs at ``positions`` (``workload.input_at``) and preprocess them, on the CPU."""
        ids = [str(queries[i].get("id", i)) if isinstance(queries[i], dict) else str(i) for i in positions]
        inputs = [workload.input_at(i) for i in positions]
        batch, truncated = self._encode_media(ids, inputs)
        return batch, truncated, [self._cost(x) for x in inputs]

    def cost_proxy(self) -> tuple[str, list[float]]:
        """What drives each prepared query's cost: see :attr:`cost_name` (one value per query).

        Raises:
            UsageError: :meth:`prepare` was not called.
        """
        self._require_prepared()
        return self.cost_name, list(self._prepared_costs)

    # -- helpers for subclasses ------------------------------------------------------------------

    def _to_device(self, value: Any) -> Any:
        """A tensor on the device, floating tensors in the model's dtype; anything else as it is."""
        to = getattr(value, "to", None)
        if not callable(to) or not hasattr(value, "is_floating_point"):
            return value
        if value.is_floating_point():
            return value.to(device=self.device, dtype=self._dtype())
        return value.to(self.device)

    def _dtype(self) -> Any:
        dtype = getattr(self.model, "dtype", None)
        if dtype is None:
            import torch

            return torch.float32
        return dtype

    def _model_kwargs(self, encoded: Any) -> dict[str, Any]:
        """The tensors of a processor's output that the model's ``forward`` takes."""
        return {k: encoded[k] for k in encoded.keys() if k in self._accepted}

    def _cost(self, item: Any) -> float:
        return 1.0

    # Subclasses implement this.
    def _encode_media(self, ids: list[str], inputs: Sequence[Any]) -> tuple[Batch, int]:
        raise NotImplementedError

    def _encode(self, queries: list[dict[str, Any]]) -> tuple[Batch, int]:  # pragma: no cover - unused
        raise UsageError(f"a {self.task} runner takes its inputs from input_at, not from query fields")
