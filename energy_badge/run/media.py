"""The shared part of the runners whose queries are not text: images, audio clips, image prompts.

A media workload hands each query's decoded input through ``workload.input_at(index)``: an RGB PIL
image, a 1-D float32 array of 16 kHz samples, or a prompt string. :meth:`MediaRunner.prepare`
decodes every query and runs the model's preprocessing (image processor, feature extractor) on it
before any measured window, and leaves the tensors on the device in the model's dtype, so the
measured pass holds the model's work only.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from energy_badge.errors import UsageError
from energy_badge.run.runner import Batch, TaskRunner

if TYPE_CHECKING:
    from energy_badge.workload import Workload

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
        self._costs: list[float] = []

    def prepare(self, workload: Workload) -> None:
        """Decode and preprocess every query of ``workload`` onto the device (outside any window).

        Args:
            workload: a workload of this runner's task with ``input_at(index)`` and ``queries``.

        Raises:
            UsageError: the workload is for another task, is empty, or cannot give its inputs.
        """
        if getattr(workload, "task", self.task) != self.task:
            raise UsageError(f"this runner is for {self.task}, not a {workload.task} workload")
        queries = list(workload.queries)
        if not queries:
            raise UsageError("the workload has no queries")
        input_at = getattr(workload, "input_at", None)
        if not callable(input_at):
            raise UsageError(f"a {self.task} workload must give its decoded inputs (input_at)")
        self._configure(workload)
        self._batches = []
        self.input_token_counts = []
        self.truncated_queries = 0
        self._costs = []
        for start in range(0, len(queries), self.batch_size):
            positions = range(start, min(len(queries), start + self.batch_size))
            ids = [
                str(queries[i].get("id", i)) if isinstance(queries[i], dict) else str(i) for i in positions
            ]
            inputs = [input_at(i) for i in positions]
            batch, truncated = self._encode_media(ids, inputs)
            batch.inputs = {k: self._to_device(v) for k, v in batch.inputs.items()}
            batch.extra = {k: self._to_device(v) for k, v in batch.extra.items()}
            self._batches.append(batch)
            self.input_token_counts.extend(batch.input_tokens)
            self.truncated_queries += truncated
            self._costs.extend(self._cost(x) for x in inputs)
        self._workload = workload

    def cost_proxy(self) -> tuple[str, list[float]]:
        """What drives each prepared query's cost: see :attr:`cost_name` (one value per query).

        Raises:
            UsageError: :meth:`prepare` was not called.
        """
        self._require_prepared()
        return self.cost_name, list(self._costs)

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
