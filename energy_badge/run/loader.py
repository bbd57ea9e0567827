"""Load a model for a task, safely: refuse early, pin what was loaded, record the flags in force."""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path
from typing import Any

from energy_badge.errors import (
    InvalidFileError,
    ModelNotFoundError,
    RuntimeFailure,
    UnsafeModelError,
    UsageError,
)
from energy_badge.files import read_json
from energy_badge.run import fit, processors, safety, source
from energy_badge.run.runner import ModelInfo, TaskRunner
from energy_badge.run.runners import RUNNERS

DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16")

# The AI Energy Score protocol: FP32, except FP16 for text generation.
DEFAULT_DTYPES: dict[str, str] = {task: "float32" for task in fit.TASKS} | {"text-generation": "float16"}

# Model types whose position ids start after the padding index (RoBERTa family): usable
# positions are max_position_embeddings - pad_token_id - 1.
_OFFSET_POSITION_TYPES = frozenset(
    {
        "roberta",
        "xlm-roberta",
        "xlm-roberta-xl",
        "camembert",
        "data2vec-text",
        "longformer",
        "roberta-prelayernorm",
        "ibert",
        "mpnet",
        "luke",
        "ernie_m",
    }
)
_VERY_LARGE = 10**8


def resolve_device(device: str | None) -> str:
    """The device to run on: ``device`` if given, else ``cuda:<current>`` with CUDA, else ``cpu``.

    Args:
        device: a torch device string, or None.

    Returns:
        A normalized device string (``cuda:0``, ``cpu``).

    Raises:
        UsageError: not a device string, or a CUDA device that is not there.
    """
    import torch

    if device is None:
        return f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise UsageError(f"--device {device!r} is not a torch device (cuda:0, cpu, ...)") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"--device {device} asked for, but CUDA is not available here")
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise UsageError(f"--device {device}: there are only {torch.cuda.device_count()} CUDA devices")
        return f"cuda:{index}"
    return str(dev)


def load_runner(
    model: str,
    task: str,
    *,
    revision: str | None = None,
    dtype: str | None = None,
    device: str | None = None,
    batch_size: int = 1,
    trust_remote_code: bool = False,
    allow_pickle: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
    cache_dir: str | Path | None = None,
    random_weights: bool = False,
    attn_implementation: str | None = None,
    quantization_config: object | None = None,
) -> TaskRunner:
    """Load ``model`` for ``task`` and return a runner ready to :meth:`~TaskRunner.prepare` a workload.

    The model's fit for the task, its need for remote code and its weight format are checked from
    ``config.json`` and the file list before any weight is read or downloaded. A Hub model is pinned
    to the commit its revision resolves to and only the files the run needs are downloaded; a local
    folder is pinned by a sha256 over the files used (:func:`energy_badge.run.source.content_sha256`).

    Args:
        model: a local model folder or a Hub repo id (``org/name``).
        task: one of :data:`energy_badge.run.TASKS`.
        revision: Hub branch, tag or commit (Hub models only; default: the main branch).
        dtype: ``float32``, ``float16`` or ``bfloat16`` (default: the AI Energy Score's, FP16 for
            text generation and FP32 otherwise). Used as given, never changed silently.
        device: torch device (default: ``cuda:<current>`` if CUDA is available, else ``cpu``).
        batch_size: queries per batch (the canonical protocol uses 1).
        trust_remote_code: allow code from the model repository to run.
        allow_pickle: allow pickle-based weights (``pytorch_model.bin``) when there is no safetensors file.
        token: Hub token (default: huggingface_hub's, e.g. ``HF_TOKEN``).
        endpoint: Hub endpoint (default: huggingface_hub's, e.g. ``HF_ENDPOINT``).
        cache_dir: Hub cache folder (default: huggingface_hub's).
        random_weights: build the architecture from its config with seeded random weights instead of
            loading weights (no weight file is read or downloaded); recorded in ``ModelInfo``.
        attn_implementation: transformers' attention implementation (``sdpa``, ``eager``); default:
            transformers' choice (``energy-badge advise`` sweeps it).
        quantization_config: a ``transformers.TorchAoConfig`` to quantize the weights while loading
            (``energy-badge advise``); not with ``random_weights``.

    Returns:
        The task's :class:`TaskRunner`, with ``.info`` recording what was loaded.

    Raises:
        UsageError: unknown task, bad dtype, device or batch size, ``revision`` with a local folder.
        ModelNotFoundError: no such folder, repo or revision; no config or weights to load.
        GatedModelError: a gated Hub model the token cannot read.
        WrongTaskError: the architecture does not fit the task.
        UnsafeModelError: the model needs ``--trust-remote-code`` or ``--allow-pickle``.
        InvalidFileError: a config, tokenizer or weight file that does not load.
        NetworkError: the Hub cannot be reached.
        RuntimeFailure: out of memory while loading.
    """
    kind = fit.check_task(task)
    task = fit.resolve_task(task)
    if batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    dtype_name = dtype or DEFAULT_DTYPES[task]
    if dtype_name not in DTYPES:
        raise UsageError(f"--dtype must be one of {', '.join(DTYPES)}, not {dtype_name!r}")
    device_name = resolve_device(device)

    path = Path(model).expanduser()
    snap: source.HubSnapshot | None = None
    code = source.REMOTE_CODE_PATTERNS if trust_remote_code else ()
    if path.is_dir():
        if revision is not None:
            raise UsageError("--revision applies to Hub models, not to a local folder")
        folder = path
    elif path.exists():
        raise ModelNotFoundError(f"{model} is a file, not a model folder or a Hub model id")
    elif source.looks_like_repo_id(model):
        snap = source.resolve_hub(model, revision=revision, token=token, endpoint=endpoint)
        if "config.json" not in snap.files and fit.MODEL_INDEX_FILE not in snap.files:
            raise ModelNotFoundError(
                f"{model} is not a transformers model (no config.json) nor a diffusers pipeline "
                "(no model_index.json)"
            )
        folder = source.download(
            snap, source.META_PATTERNS + code, token=token, endpoint=endpoint, cache_dir=cache_dir
        )
    else:
        raise ModelNotFoundError(f"{model} is neither a local folder nor a valid Hub model id")

    # No file is read before it is checked: a regular file inside the folder, no link out of it.
    on_disk = source.local_files(folder)
    meta = source.meta_files(on_disk, trust_remote_code=trust_remote_code)
    checked_meta = safety.check_files(folder, meta, name=model)
    # Early refusals, from config.json (or model_index.json) and the file list only.
    with safety.staged(checked_meta, "meta") as meta_stage:
        library = fit.infer_library(meta_stage, model)
    if library == "diffusers" or kind.library == "diffusers":
        fit.check_task_fit(folder, task, name=model, library=library)
        if attn_implementation is not None or quantization_config is not None:
            raise UsageError(
                f"{model} is a diffusers pipeline: attention and quantization options do not apply"
            )
        from energy_badge.run.diffusion import load_pipeline_runner

        return load_pipeline_runner(
            model,
            folder,
            snap,
            local_path=path if snap is None else None,
            dtype=dtype_name,
            device=device_name,
            batch_size=batch_size,
            trust_remote_code=trust_remote_code,
            allow_pickle=allow_pickle,
            random_weights=random_weights,
            token=token,
            endpoint=endpoint,
            cache_dir=cache_dir,
        )
    config = fit.read_config(folder, model)
    fit.check_task_fit(folder, task, name=model, library=library)
    if fit.needs_remote_code(config, task) and not trust_remote_code:
        classes = ", ".join(f"{k}: {v}" for k, v in sorted((config.get("auto_map") or {}).items())[:2])
        raise UnsafeModelError(
            f"{model} needs code from its repository to run ({classes}); pass --trust-remote-code to allow it"
        )
    names = snap.files if snap is not None else on_disk
    plan = safety.plan_weights(
        names, config=config, allow_pickle=allow_pickle, random_weights=random_weights, name=model
    )
    if snap is None:
        weights = safety.weight_files(folder, plan, config=config, files=names, name=model)
    else:
        folder, weights = source.fetch_weights(
            snap,
            plan,
            config=config,
            allow_pickle=allow_pickle,
            code=code,
            name=model,
            token=token,
            endpoint=endpoint,
            cache_dir=cache_dir,
        )
    index = [plan.entry] if plan.sharded and plan.entry else []
    st_files = safety.st_module_files(folder) if task == "sentence-similarity" else []
    used = safety.check_files(
        folder, meta + index + st_files, name=model, weights=weights, allow_pickle=allow_pickle
    )
    content_sha = source.content_sha256(folder, used) if snap is None else None
    settings = sentence_transformers_settings(folder) if task == "sentence-similarity" else None

    # transformers loads from a private folder of links to the checked files, and sees nothing else.
    with safety.staged(used, snap.sha if snap is not None else folder.resolve().name) as stage:
        prep = processors.load_preprocessing(RUNNERS[task].preprocessing, stage, model, trust_remote_code)
        net, note = _load_model(
            stage,
            model,
            task,
            config,
            plan,
            dtype_name,
            device_name,
            trust_remote_code,
            _load_options(attn_implementation, quantization_config),
        )

    info = ModelInfo(
        id=model if snap is not None else source.local_model_id(model, path),
        source="hub" if snap is not None else "local",
        revision=snap.sha if snap is not None else None,
        content_sha256=content_sha,
        architecture=type(net).__name__,
        parameters=sum(p.numel() for p in net.parameters()),
        dtype=str(net.dtype).removeprefix("torch."),
        trust_remote_code=trust_remote_code,
        allow_pickle=allow_pickle,
        random_weights=random_weights,
        note=note,
        path=str(path.resolve()) if snap is None else None,
    )
    kwargs: dict[str, Any] = {
        "model": net,
        "tokenizer": prep.tokenizer,
        "processor": prep.processor,
        "info": info,
        "device": device_name,
        "batch_size": batch_size,
        "max_input_tokens": (
            max_input_tokens(net.config, prep.tokenizer)
            if RUNNERS[task].preprocessing == "tokenizer"
            else None
        ),
    }
    if settings is not None:
        pooling, normalize, max_seq = settings
        kwargs.update(pooling=pooling, normalize=normalize)
        if max_seq is not None:
            limit = kwargs["max_input_tokens"]
            kwargs["max_input_tokens"] = max_seq if limit is None else min(limit, max_seq)
    return RUNNERS[task](**kwargs)


def _load_options(attn_implementation: str | None, quantization_config: object | None) -> dict[str, Any]:
    """The optional ``from_pretrained`` arguments ``advise`` sweeps (only those given)."""
    options = {"attn_implementation": attn_implementation, "quantization_config": quantization_config}
    return {k: v for k, v in options.items() if v is not None}


def _load_model(
    folder: Path,
    name: str,
    task: str,
    config: dict[str, Any],
    plan: safety.WeightsPlan,
    dtype_name: str,
    device: str,
    trust_remote_code: bool,
    extra: dict[str, Any] | None = None,
) -> tuple[Any, str | None]:
    import torch

    extra = extra or {}
    if plan.format == "none" and "quantization_config" in extra:
        raise UsageError("weight quantization needs the model's weights, not --random-weights")

    cls = fit.model_class(task, config)
    torch_dtype = getattr(torch, dtype_name)
    note = None
    try:
        if plan.format == "none":
            from transformers import AutoConfig

            cfg = AutoConfig.from_pretrained(str(folder), trust_remote_code=trust_remote_code)
            if device != "meta":  # meta tensors hold no values (energy_badge.ahead): leave the RNG be
                torch.manual_seed(0)
            # Build (and randomly initialise) the weights on the target device: an 8B model
            # initialised on the CPU takes minutes, on the GPU seconds.
            with torch.device(device):
                net = cls.from_config(cfg, dtype=torch_dtype, trust_remote_code=trust_remote_code, **extra)
        else:
            with warnings.catch_warnings():  # torch's note on a pickle's protocol: not for our users
                warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
                net, loading = cls.from_pretrained(
                    str(folder),
                    dtype=torch_dtype,
                    use_safetensors=plan.format == "safetensors",
                    weights_only=True,  # torch.load refuses anything but tensors (and plain containers)
                    trust_remote_code=trust_remote_code,
                    output_loading_info=True,
                    **extra,
                )
            missing = sorted(loading.get("missing_keys") or [])
            if missing:
                note = (
                    f"{len(missing)} weights were missing from the checkpoint and randomly initialized "
                    f"(e.g. {missing[0]})"
                )
        net = (net if "quantization_config" in extra else net.to(device)).eval()
    except torch.OutOfMemoryError as exc:
        raise RuntimeFailure(
            f"out of memory loading {name} on {device}: {str(exc).splitlines()[0]}"
        ) from None
    except pickle.UnpicklingError as exc:  # torch.load(weights_only=True) met more than tensors
        found = re.search(r"^.*(?:[Uu]nsupported|blocked).*$", str(exc), re.MULTILINE)
        detail = found.group(0).removeprefix("WeightsUnpickler error:").strip() if found else "not tensors"
        raise UnsafeModelError(
            f"refused to load the pickle-based weights of {name}: they hold more than tensors "
            f"({detail[:160]}), and unpickling them could run code"
        ) from None
    except (OSError, ValueError, RuntimeError, KeyError, TypeError, EOFError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, RuntimeError) and "CUDA" in text:
            raise RuntimeFailure(f"CUDA failed loading {name} on {device}: {text}") from None
        raise InvalidFileError(f"cannot load {name} for {task}: {text}") from None
    except Exception as exc:  # safetensors raises its own SafetensorError for a corrupt file
        if type(exc).__name__ != "SafetensorError":
            raise
        raise InvalidFileError(f"cannot load the weights of {name}: {exc}") from None
    return net, note


def max_input_tokens(config: Any, tokenizer: Any) -> int | None:
    """The longest input the model takes: the smaller of the tokenizer's and the config's limits.

    Args:
        config: the model's ``PretrainedConfig``.
        tokenizer: its tokenizer.

    Returns:
        A token count, or None when neither states a limit (relative-position models).
    """
    limits = []
    tok_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_max, int) and 0 < tok_max < _VERY_LARGE:
        limits.append(tok_max)
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    for key in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length"):
        value = getattr(text_config, key, None)
        if isinstance(value, int) and value > 0:
            if getattr(text_config, "model_type", None) in _OFFSET_POSITION_TYPES:
                value -= (getattr(text_config, "pad_token_id", None) or 0) + 1
            limits.append(value)
            break
    return min(limits) if limits else None


def sentence_transformers_settings(folder: Path) -> tuple[tuple[str, ...], bool, int | None]:
    """Pooling, normalization and max sequence length from a sentence-transformers folder.

    Reads ``modules.json`` (the Pooling and Normalize modules), the pooling module's
    ``config.json`` (``pooling_mode`` or the older ``pooling_mode_*`` booleans) and
    ``sentence_bert_config.json`` (``max_seq_length``). Without them: mean pooling, no
    normalization, no extra length limit.

    Args:
        folder: the model folder.

    Returns:
        ``(pooling modes, normalize, max_seq_length or None)``.

    Raises:
        InvalidFileError: one of those files does not parse.
        UnsafeModelError: ``modules.json`` names a module folder outside the model folder.
    """
    pooling_config, normalize = safety.st_modules(folder)
    if (folder / "2_Normalize").is_dir():
        normalize = True
    modes: tuple[str, ...] = ("mean",)
    if pooling_config is not None and (folder / pooling_config).is_file():
        data = read_json(folder / pooling_config)
        if not isinstance(data, dict):
            raise InvalidFileError(f"{folder / pooling_config} is not a JSON object")
        if "pooling_mode" in data:
            value = data["pooling_mode"]
            if not isinstance(value, (str, list)) or not value:
                raise InvalidFileError(f"{folder / pooling_config}: pooling_mode is not a mode or a list")
            modes = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
        else:
            legacy = {
                "pooling_mode_cls_token": "cls",
                "pooling_mode_max_tokens": "max",
                "pooling_mode_mean_tokens": "mean",
                "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
                "pooling_mode_weightedmean_tokens": "weightedmean",
                "pooling_mode_lasttoken": "lasttoken",
            }
            modes = tuple(mode for key, mode in legacy.items() if data.get(key)) or ("mean",)
    max_seq = None
    st_config = folder / "sentence_bert_config.json"
    if st_config.is_file():
        data = read_json(st_config)
        value = data.get("max_seq_length") if isinstance(data, dict) else None
        if isinstance(value, int) and value > 0:
            max_seq = value
    return modes, normalize, max_seq
