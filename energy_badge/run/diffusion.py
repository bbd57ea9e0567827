"""Text-to-image: load a diffusers pipeline safely and run one prompt -> one image per query.

**Loading.** A pipeline is a folder: ``model_index.json`` names its components (``unet``, ``vae``,
``text_encoder``, ``tokenizer``, ``scheduler``...), each a ``[library, class]`` pair loaded from its
subfolder. Before anything is read: every component must be a class of diffusers or transformers
(any other library means code from the repository: refused unless ``--trust-remote-code``), the
pipeline class one of optimum's text-to-image pipelines (:func:`energy_badge.run.fit.check_task_fit`),
and each component's weights are chosen here (:func:`plan_pipeline`): safetensors
(``diffusion_pytorch_model.safetensors``, ``model.safetensors``, or their shard index), or, only
with ``--allow-pickle``, the pickle files (``*.bin``) a component has instead. Every file is then
checked (:func:`energy_badge.run.safety.check_files`) and the pipeline is loaded, by the diffusers
auto pipeline optimum's ``TasksManager`` names for the task, from a private folder of links to those
files alone.

**The measured work.** One query is one pipeline call on one prompt: the workload's inference
steps (30), one image, a fixed seed (a generator seeded with the workload's seed for every query,
so every pass draws the same noise), the pipeline's default resolution and guidance (unless the
workload sets them), and the image left on the device (``output_type="pt"``; it is turned into a
picture after the window).
The prompt's tokenization and text encoding stay inside the window, as the pipeline does them and as
the AI Energy Score measures the whole call: a CLIP tokenizer on a caption-length prompt takes well
under a millisecond against seconds of denoising.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energy_badge.errors import (
    InvalidFileError,
    ModelNotFoundError,
    RuntimeFailure,
    UnsafeModelError,
    UsageError,
)
from energy_badge.files import read_json
from energy_badge.run import fit, safety, source
from energy_badge.run.media import MediaRunner
from energy_badge.run.runner import Batch, ModelInfo

if TYPE_CHECKING:
    from energy_badge.run.source import HubSnapshot

__all__ = ["PipelinePlan", "TextToImageRunner", "load_pipeline_runner", "plan_pipeline"]

_SAFE = ("diffusion_pytorch_model.safetensors", "model.safetensors")
_PICKLE = ("diffusion_pytorch_model.bin", "pytorch_model.bin")
_LIBRARIES = ("diffusers", "transformers")
#: A component's own config and tokenizer files (paths inside its subfolder).
_COMPONENT_META = (*source.META_PATTERNS, "scheduler_config.json")


@dataclass(frozen=True)
class PipelinePlan:
    """What a pipeline load reads.

    Attributes:
        pipeline: the pipeline class (``StableDiffusionPipeline``).
        components: component name -> ``"library.Class"`` (components set to null are left out).
        meta: the configs and tokenizer files of the pipeline and its components.
        indexes: shard indexes read to find weights.
        weights: the weight files read as tensors.
        format: ``"safetensors"`` or ``"pickle"`` (some component's weights are pickle files).
    """

    pipeline: str
    components: tuple[tuple[str, str], ...]
    meta: tuple[str, ...]
    indexes: tuple[str, ...]
    weights: tuple[str, ...]
    format: str


def _components(index: dict[str, Any], name: str, trust_remote_code: bool) -> list[tuple[str, str, str]]:
    """``(component, library, class)`` of every component ``model_index.json`` lists."""
    import importlib

    pipeline = index.get("_class_name")
    if not isinstance(pipeline, str):
        raise UnsafeModelError(
            f"{name}'s model_index.json names a custom pipeline ({pipeline!r:.80}), which is code from its "
            "repository; refused"
        )
    out = []
    for key, value in sorted(index.items()):
        if key.startswith("_") or not isinstance(value, list) or len(value) != 2:
            continue  # a pipeline setting (requires_safety_checker: true), not a component
        library, cls = value
        if library is None and cls is None:
            continue  # a component switched off (safety_checker: [null, null])
        if not safety.inside(key) or "/" in key:
            raise UnsafeModelError(
                f"{name}: model_index.json names a component outside the folder ({key!r:.80})"
            )
        known = isinstance(library, str) and library in _LIBRARIES and isinstance(cls, str)
        if known and hasattr(importlib.import_module(str(library)), str(cls)):
            out.append((key, str(library), str(cls)))
            continue
        if not trust_remote_code:
            raise UnsafeModelError(
                f"{name}'s component {key} is {library}.{cls}, not a diffusers or transformers class "
                "(code from its repository); pass --trust-remote-code to allow it"
            )
        out.append((key, str(library), str(cls)))
    return out


def plan_pipeline(
    folder: Path,
    files: Sequence[str],
    *,
    allow_pickle: bool,
    trust_remote_code: bool,
    name: str,
) -> PipelinePlan:
    """Choose exactly the files a pipeline load reads, refusing pickle weights unless allowed.

    Args:
        folder: the folder holding ``model_index.json`` (and any shard index).
        files: every file the pipeline has (repository-relative).
        allow_pickle: whether a component may load pickle-based weights (``*.bin``).
        trust_remote_code: whether components of other libraries (code from the repository) may load.
        name: the model, for messages.

    Returns:
        The :class:`PipelinePlan`.

    Raises:
        UnsafeModelError: pickle weights without ``allow_pickle``; code from the repository without
            ``trust_remote_code``; a component or shard outside the folder.
        InvalidFileError: ``model_index.json`` or a shard index that does not parse.
        ModelNotFoundError: no ``model_index.json``.
    """
    index = read_json(folder / fit.MODEL_INDEX_FILE) if (folder / fit.MODEL_INDEX_FILE).is_file() else None
    if not isinstance(index, dict):
        raise ModelNotFoundError(f"{name} is not a diffusers pipeline: it has no model_index.json")
    components = _components(index, name, trust_remote_code)
    meta: list[str] = [fit.MODEL_INDEX_FILE]
    indexes: list[str] = []
    weights: list[str] = []
    pickled_any = False
    code = source.REMOTE_CODE_PATTERNS if trust_remote_code else ()
    for key, _, _ in components:
        inner = sorted(f.removeprefix(key + "/") for f in files if f.startswith(key + "/"))
        meta += [f"{key}/{f}" for f in inner if source.matches(f, _COMPONENT_META + code)]
        top = [f for f in inner if "/" not in f]
        chosen = next((f for f in _SAFE if f in top), None) or next(
            (f for f in _SAFE if f + ".index.json" in top), None
        )
        if chosen is None:
            pickled = [f for f in _PICKLE if f in top or f + ".index.json" in top]
            if not pickled:
                continue  # a scheduler, a tokenizer, an image processor: no weights
            if not allow_pickle:
                raise UnsafeModelError(
                    f"{name}'s {key} has only pickle-based weights ({key}/{pickled[0]}), which can run code "
                    "when loaded; pass --allow-pickle to load them anyway"
                )
            chosen, pickled_any = pickled[0], True
        if chosen in top:
            weights.append(f"{key}/{chosen}")
            continue
        entry = f"{key}/{chosen}.index.json"
        indexes.append(entry)
        data = read_json(folder / entry) if (folder / entry).is_file() else None
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise InvalidFileError(f"{name}: {entry} has no weight_map naming its shard files")
        for shard in sorted({str(v) for v in weight_map.values()}):
            if not safety.inside(shard):
                raise UnsafeModelError(
                    f"{name}: {entry} names a weight file outside the folder ({shard!r:.80})"
                )
            weights.append(f"{key}/{shard}")
    return PipelinePlan(
        pipeline=str(index["_class_name"]),
        components=tuple((k, f"{lib}.{cls}") for k, lib, cls in components),
        meta=tuple(sorted(set(meta))),
        indexes=tuple(indexes),
        weights=tuple(weights),
        format="pickle" if pickled_any else "safetensors",
    )


def load_pipeline_runner(
    model: str,
    folder: Path,
    snap: HubSnapshot | None,
    *,
    local_path: Path | None,
    dtype: str,
    device: str,
    batch_size: int,
    trust_remote_code: bool,
    allow_pickle: bool,
    random_weights: bool,
    token: str | None,
    endpoint: str | None,
    cache_dir: str | Path | None,
) -> TextToImageRunner:
    """Load a diffusers text-to-image pipeline (see the module docstring) and wrap it in its runner.

    Called by :func:`energy_badge.run.load_runner` once the folder's ``model_index.json`` has been
    checked to name a text-to-image pipeline.

    Raises:
        UsageError: ``random_weights`` (not available for pipelines).
        UnsafeModelError, InvalidFileError, ModelNotFoundError: as :func:`plan_pipeline` and
            :func:`energy_badge.run.safety.check_files`; a pipeline that does not load.
        RuntimeFailure: out of memory while loading.
    """
    if random_weights:
        raise UsageError(
            "--random-weights is not available for diffusers pipelines: measure the real weights"
        )
    files = list(snap.files) if snap is not None else source.local_files(folder)
    if snap is not None:
        # model_index.json is here: fetch the components' configs and shard indexes, then plan.
        index = read_json(folder / fit.MODEL_INDEX_FILE)
        keys = [k for k, v in index.items() if isinstance(v, list)] if isinstance(index, dict) else []
        small = [
            f
            for f in files
            if "/" in f
            and f.split("/", 1)[0] in keys
            and (source.matches(f.split("/", 1)[1], _COMPONENT_META) or f.endswith(".index.json"))
        ]
        folder = source.download(
            snap,
            source.META_PATTERNS + source.exact_patterns(small),
            token=token,
            endpoint=endpoint,
            cache_dir=cache_dir,
        )
    plan = plan_pipeline(
        folder, files, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code, name=model
    )
    if snap is not None:
        wanted = source.exact_patterns([*plan.meta, *plan.indexes, *plan.weights])
        folder = source.download(
            snap, source.META_PATTERNS + wanted, token=token, endpoint=endpoint, cache_dir=cache_dir
        )
    used = safety.check_files(
        folder, [*plan.meta, *plan.indexes], name=model, weights=plan.weights, allow_pickle=allow_pickle
    )
    content_sha = source.content_sha256(folder, used) if snap is None else None
    with safety.staged(used, snap.sha if snap is not None else folder.resolve().name) as stage:
        pipe = _load_pipeline(stage, model, plan, dtype, device, trust_remote_code)
    modules = [m for m in pipe.components.values() if hasattr(m, "parameters") and hasattr(m, "dtype")]
    main = (
        getattr(pipe, "unet", None) or getattr(pipe, "transformer", None) or (modules[0] if modules else None)
    )
    info = ModelInfo(
        id=model if snap is not None else source.local_model_id(model, local_path or folder),
        source="hub" if snap is not None else "local",
        revision=snap.sha if snap is not None else None,
        content_sha256=content_sha,
        architecture=type(pipe).__name__,
        parameters=sum(p.numel() for m in modules for p in m.parameters()),
        dtype=str(main.dtype).removeprefix("torch.") if main is not None else dtype,
        trust_remote_code=trust_remote_code,
        allow_pickle=allow_pickle,
        random_weights=False,
        path=str(local_path.resolve()) if local_path is not None else None,
    )
    return TextToImageRunner(model=pipe, info=info, device=device, batch_size=batch_size)


def _load_pipeline(
    folder: Path, name: str, plan: PipelinePlan, dtype: str, device: str, trust_remote_code: bool
) -> Any:
    import torch

    loader = fit.tasks_manager().get_model_class_for_task("text-to-image", library="diffusers")
    try:
        pipe = loader.from_pretrained(
            str(folder),
            dtype=getattr(torch, dtype),
            # Pickle allowed and needed: each component loads the one weight file staged for it.
            use_safetensors=True if plan.format == "safetensors" else None,
            trust_remote_code=trust_remote_code,
            low_cpu_mem_usage=False,
        )
        pipe = pipe.to(device)
    except torch.OutOfMemoryError as exc:
        raise RuntimeFailure(
            f"out of memory loading {name} on {device}: {str(exc).splitlines()[0]}"
        ) from None
    except (OSError, ValueError, RuntimeError, KeyError, TypeError, AttributeError, EOFError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidFileError(f"cannot load the pipeline {name}: {text[:300]}") from None
    pipe.set_progress_bar_config(disable=True)
    return pipe


class TextToImageRunner(MediaRunner):
    """One prompt -> one image: the whole pipeline call is the measured work (module docstring)."""

    task = "text-to-image"
    preprocessing = "none"
    cost_name = "prompt_characters"

    def _configure(self, workload: Any) -> None:
        settings = getattr(workload, "generation", None)
        steps = getattr(settings, "num_inference_steps", None)
        if not isinstance(steps, int) or steps < 1:
            raise UsageError(
                "a text-to-image workload needs its generation settings (num_inference_steps, seed)"
            )
        self.steps = steps
        self.seed = int(getattr(settings, "seed", 0) or 0)
        self.images_per_prompt = int(getattr(settings, "num_images_per_prompt", 1) or 1)
        # The workload's own choices where it makes them; else the pipeline's defaults.
        self.call_options = {
            key: getattr(settings, key)
            for key in ("height", "width", "guidance_scale")
            if getattr(settings, key, None) is not None
        }

    def _cost(self, item: Any) -> float:
        return float(len(str(item)))

    def _encode_media(self, ids: list[str], inputs: Sequence[Any]) -> tuple[Batch, int]:
        prompts = [str(p) for p in inputs]
        return Batch(ids, {}, [0] * len(ids), {"prompts": prompts}), 0

    def _forward(self, batch: Batch, *, prefill: bool) -> Any:
        import torch

        generator = torch.Generator(device=self.device).manual_seed(self.seed)
        images = self.model(
            prompt=batch.extra["prompts"],
            num_inference_steps=self.steps,
            num_images_per_prompt=self.images_per_prompt,
            generator=generator,
            output_type="pt",
            **self.call_options,
        ).images
        return images

    def _output_tokens(self, batch: Batch, result: Any) -> int:
        expected = len(batch.ids) * self.images_per_prompt
        if int(result.shape[0]) != expected:
            raise RuntimeFailure(f"the pipeline made {int(result.shape[0])} images, not {expected}")
        return 0

    def _decode(self, batch: Batch, result: Any) -> list[dict[str, Any]]:
        images = result.float().clamp(0, 1)
        out = []
        for i, qid in enumerate(batch.ids):
            image = images[i]
            out.append(
                {
                    "id": qid,
                    "prompt": batch.extra["prompts"][i],
                    "height": int(image.shape[-2]),
                    "width": int(image.shape[-1]),
                    "mean_pixel": round(float(image.mean()), 4),
                }
            )
        return out
