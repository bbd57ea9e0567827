"""The shipped provisional rating table (0.3.0-provisional) against the figures it was built from.

Nothing is simulated here: no hardware is involved. The figures below are the AI Energy Score's
(AES) published per-model GPU energy on an NVIDIA H100 80GB (February 2025 leaderboard), copied
verbatim; the results rated are SYNTHETIC (``results_factory``), each carrying one published
figure as its energy, so "model X lands at N stars" means "a canonical result with X's published
AES figure would get N stars".

Source of the figures: the leaderboard's ``data/energy/<task>.csv`` files (Hugging Face Space
AIEnergyScore/Leaderboard; the same files as ``leaderboard_v0_data/energy/`` in the Space
AIEnergyScore/submission_portal), read from the copy committed to
https://github.com/ebbalg/AI-climate-overview (``data/AI-energy-leaderboard/``, commit 96c2d78 of
2025-07-03). Columns: model, ``total_gpu_energy`` (kWh per 1000 queries; times 1000 = Wh per 1000
queries), the AES's star rating, and for text generation the AES size class.
:func:`test_the_copied_figures_give_the_stars_the_aes_published` checks the copy: the AES's own
method (five equal linear bands over each task's or size class's range) recomputes every
published star from these figures.
"""

from __future__ import annotations

import math
import statistics

import pytest
from results_factory import make_energy_result, make_result

from energy_badge.files import read_json
from energy_badge.hardware import hardware_class
from energy_badge.rating import (
    cut_points,
    find_entry,
    load_table,
    rate,
    shipped_tables,
    stars_for,
)
from energy_badge.rating.codec import decode_table
from energy_badge.result import decode_result
from energy_badge.workload import canonical_spec

VERSION = "0.3.0-provisional"

#: (model, total_gpu_energy in kWh per 1000 queries, AES stars, AES size class) per task, as published.
AES_H100: dict[str, list[tuple[str, float, int, str | None]]] = {
    "text-generation": [
        ("berkeley-nest/Starling-LM-7B-alpha", 0.019010862, 2, "A"),
        ("distilbert/distilgpt2", 0.001313333, 5, "A"),
        ("Salesforce/xLAM-7b-r", 0.019170496, 2, "A"),
        ("openai-community/gpt2", 0.002146239, 5, "A"),
        ("openai-community/gpt2-xl", 0.008921289, 4, "A"),
        ("openai-community/gpt2-medium", 0.003956383, 5, "A"),
        ("openai-community/gpt2-large", 0.006120968, 5, "A"),
        ("openai-community/openai-gpt", 0.002703617, 5, "A"),
        ("microsoft/phi-1", 0.006393343, 5, "A"),
        ("microsoft/phi-1_5", 0.006290348, 5, "A"),
        ("microsoft/phi-2", 0.009863832, 4, "A"),
        ("microsoft/phi-4", 0.028741175, 1, "A"),
        ("CohereForAI/aya-23-8B", 0.017817499, 2, "A"),
        ("allenai/OLMo-1.7-7B-hf", 0.016831336, 3, "A"),
        ("allenai/OLMo-1B-hf", 0.005593808, 5, "A"),
        ("facebook/opt-2.7b", 0.008059587, 4, "A"),
        ("facebook/opt-125m", 0.001943623, 5, "A"),
        ("mistralai/Mistral-7B-v0.1", 0.019130424, 2, "A"),
        ("mistralai/Ministral-8B-Instruct-2410", 0.02087486, 2, "A"),
        ("tiiuae/falcon-7b", 0.015875393, 3, "A"),
        ("meta-llama/Meta-Llama-3-8B", 0.017333139, 3, "A"),
        ("meta-llama/Llama-2-7b-hf", 0.016441257, 3, "A"),
        ("meta-llama/Meta-Llama-3.1-8B", 0.017376263, 3, "A"),
        ("meta-llama/Llama-2-13b-hf", 0.026102442, 1, "A"),
        ("HuggingFaceTB/SmolLM2-1.7B-Instruct", 0.007708234, 4, "A"),
        ("HuggingFaceTB/SmolLM-1.7B", 0.007644623, 4, "A"),
        ("HuggingFaceTB/SmolLM-135M", 0.007279517, 4, "A"),
        ("HuggingFaceTB/SmolLM-360M", 0.008095212, 4, "A"),
        ("google/gemma-2b", 0.008679811, 4, "A"),
        ("google/gemma-7b", 0.018899583, 2, "A"),
        ("google/gemma-2-2b-it", 0.018639217, 2, "A"),
        ("01-ai/Yi-1.5-9B", 0.023000635, 2, "A"),
        ("mistralai/Mixtral-8x7B-v0.1", 0.615390413, 1, "B"),
        ("Qwen/QwQ-32B-Preview", 0.054556478, 5, "B"),
        ("01-ai/Yi-1.5-34B", 0.056079427, 5, "B"),
        ("CohereForAI/c4ai-command-r-plus", 3.426381777, 1, "C"),
        ("crm-sf/TextBase-70B", 1.721555861, 5, "C"),
        ("meta-llama/Meta-Llama-3-70B", 1.71965556, 5, "C"),
        ("meta-llama/Llama-2-70b-hf", 1.648505252, 5, "C"),
        ("Qwen/Qwen2.5-72B-Instruct", 1.86955316, 5, "C"),
    ],
    "summarization": [
        ("pszemraj/led-large-book-summary", 0.004288572, 5, None),
        ("facebook/bart-large-cnn", 0.002039253, 5, None),
        ("KipperDev/bart_summarizer_model", 0.000784852, 5, None),
        ("google/bigbird-pegasus-large-arxiv", 0.003523812, 5, None),
        ("sshleifer/distilbart-cnn-12-6", 0.001481002, 5, None),
        ("sshleifer/distilbart-xsum-12-1", 0.001049138, 5, None),
        ("google-t5/t5-large", 0.008676504, 4, None),
        ("google-t5/t5-11b", 0.034807171, 1, None),
        ("google-t5/t5-3b", 0.013240065, 4, None),
        ("google-t5/t5-base", 0.004230194, 5, None),
        ("google-t5/t5-small", 0.002266265, 5, None),
    ],
    "text-classification": [
        ("nlptown/bert-base-multilingual-uncased-sentiment", 0.000356581, 5, None),
        ("bhadresh-savani/electra-base-emotion", 0.000252137, 5, None),
        ("distilbert/distilbert-base-uncased-finetuned-sst-2-english", 0.000217736, 5, None),
        ("michelecafagna26/gpt2-medium-finetuned-sst2-sentiment", 0.000801512, 5, None),
        ("lxyuan/distilbert-base-multilingual-cased-sentiments-student", 0.000221417, 5, None),
        ("mnoukhov/gpt2-imdb-sentiment-classifier", 0.000318768, 5, None),
        ("lvwerra/distilbert-imdb", 0.000216022, 5, None),
        ("Cheng98/bert-large-sst2", 0.000918014, 5, None),
        ("google-t5/t5-large", 0.007919763, 4, None),
        ("google-t5/t5-11b", 0.027787079, 1, None),
        ("google-t5/t5-3b", 0.011680516, 3, None),
        ("google-t5/t5-base", 0.004126364, 5, None),
        ("google-t5/t5-small", 0.002216067, 5, None),
    ],
    "question-answering": [
        ("distilbert/distilbert-base-cased-distilled-squad", 0.000239971, 5, None),
        ("csarron/mobilebert-uncased-squad-v2", 0.000936525, 5, None),
        ("Intel/dynamic_tinybert", 0.000208572, 5, None),
        ("Falconsai/question_answering_v2", 0.00022546, 5, None),
        ("allenai/longformer-large-4096-finetuned-triviaqa", 0.003970963, 5, None),
        ("mrm8488/longformer-base-4096-finetuned-squadv2", 0.001792351, 5, None),
        ("mrm8488/bert-tiny-finetuned-squadv2", 5.54e-05, 5, None),
        ("deepset/deberta-v3-large-squad2", 0.001876685, 5, None),
        ("deepset/minilm-uncased-squad2", 0.000252815, 5, None),
        ("deepset/bert-large-uncased-whole-word-masking-squad2", 0.001047537, 5, None),
        ("deepset/deberta-v3-base-squad2", 0.000812482, 5, None),
        ("deepset/electra-base-squad2", 0.000468621, 5, None),
        ("timpal0l/mdeberta-v3-base-squad2", 0.00085768, 5, None),
        ("google-t5/t5-large", 0.072278456, 3, None),
        ("google-t5/t5-11b", 0.178130109, 1, None),
        ("google-t5/t5-3b", 0.087697858, 3, None),
        ("google-t5/t5-base", 0.03436275, 5, None),
        ("google-t5/t5-small", 0.020635069, 5, None),
    ],
    "sentence-similarity": [
        ("mixedbread-ai/mxbai-embed-large-v1", 0.0005904, 5, None),
        ("thenlper/gte-base", 0.000245417, 5, None),
        ("thenlper/gte-large", 0.000594633, 5, None),
        ("BAAI/bge-base-en-v1.5", 0.000250457, 5, None),
        ("BAAI/bge-small-en-v1.5", 0.000193928, 5, None),
        ("Salesforce/SFR-Embedding-Mistral", 0.005220944, 1, None),
        ("intfloat/e5-large-v2", 0.000602341, 5, None),
        ("intfloat/e5-base-v2", 0.00025328, 5, None),
        ("intfloat/multilingual-e5-large-instruct", 0.000721829, 5, None),
        ("GritLM/GritLM-7B", 0.005025232, 1, None),
        ("izhx/udever-bloom-3b", 0.002152738, 3, None),
        ("izhx/udever-bloom-7b1", 0.004704201, 1, None),
        ("izhx/udever-bloom-1b1", 0.000968773, 5, None),
        ("WhereIsAI/UAE-Large-V1", 0.000600639, 5, None),
        ("llmrails/ember-v1", 0.000576077, 5, None),
        ("nomic-ai/nomic-embed-text-v1", 0.000380462, 5, None),
        ("avsolatorio/GIST-Embedding-v0", 0.000258269, 5, None),
        ("avsolatorio/GIST-large-Embedding-v0", 0.000577657, 5, None),
        ("avsolatorio/GIST-all-MiniLM-L6-v2", 0.000106329, 5, None),
    ],
    # Table 0.3.0: the image, audio and image-generation tasks, from the same leaderboard's
    # image_classification.csv, object_detection.csv, asr.csv, image_captioning.csv and
    # image_generation.csv (the same copy, same commit), in the files' order.
    "image-classification": [
        ("deepmind/vision-perceiver-conv", 0.002641366, 1, None),
        ("microsoft/beit-base-patch16-224", 0.000741506, 5, None),
        ("microsoft/resnet-50", 0.000390429, 5, None),
        ("microsoft/swin-base-patch4-window12-384", 0.001530817, 3, None),
        ("microsoft/resnet-18", 0.000299115, 5, None),
        ("microsoft/swinv2-large-patch4-window12-192-22k", 0.001290521, 3, None),
        ("microsoft/swinv2-large-patch4-window12-192-22k", 0.001386088, 3, None),
        ("microsoft/swinv2-tiny-patch4-window8-256", 0.000767775, 4, None),
        ("microsoft/swinv2-tiny-patch4-window16-256", 0.000848117, 4, None),
        ("microsoft/beit-base-patch16-224-pt22k-ft22k", 0.000778986, 4, None),
        ("apple/mobilevit-small", 0.000512055, 5, None),
        ("WinKawaks/vit-tiny-patch16-224", 0.000384751, 5, None),
        ("facebook/convnext-base-384-22k-1k", 0.001115214, 4, None),
        ("facebook/convnext-tiny-224", 0.000450754, 5, None),
        ("facebook/convnext-large-224", 0.000973011, 4, None),
        ("nvidia/mit-b5", 0.002487931, 1, None),
        ("google/efficientnet-b7", 0.001849984, 2, None),
        ("google/vit-base-patch32-384", 0.000758995, 5, None),
        ("google/vit-base-patch16-384", 0.000991464, 4, None),
        ("google/vit-large-patch32-384", 0.001163123, 4, None),
        ("google/mobilenet_v2_1.0_224", 0.000406468, 5, None),
        ("google/vit-base-patch16-224", 0.000582595, 5, None),
        ("google/bit-50", 0.000831744, 4, None),
    ],
    "object-detection": [
        ("microsoft/conditional-detr-resnet-50", 0.002144589, 5, None),
        ("facebook/detr-resnet-50-dc5", 0.003291817, 4, None),
        ("facebook/detr-resnet-50-dc5", 0.003278611, 4, None),
        ("facebook/detr-resnet-101", 0.002531398, 4, None),
        ("hustvl/yolos-tiny", 0.001004166, 5, None),
        ("hustvl/yolos-small", 0.003281148, 4, None),
        ("hustvl/yolos-base", 0.007980927, 1, None),
    ],
    "automatic-speech-recognition": [
        ("distil-whisper/distil-large-v2", 0.021521125, 4, None),
        ("distil-whisper/distil-medium.en", 0.016971399, 5, None),
        ("distil-whisper/distil-small.en", 0.015568577, 5, None),
        ("openai/whisper-base", 0.016545973, 5, None),
        ("openai/whisper-tiny", 0.013442129, 5, None),
        ("openai/whisper-large-v3", 0.086679066, 1, None),
        ("openai/whisper-small", 0.029965155, 4, None),
        ("openai/whisper-medium", 0.061421628, 2, None),
        ("facebook/s2t-small-librispeech-asr", 0.017201768, 5, None),
        ("facebook/hubert-large-ls960-ft", 0.001615015, 5, None),
        ("facebook/mms-1b-all", 0.004284855, 5, None),
        ("facebook/wav2vec2-base-960h", 0.000619699, 5, None),
        ("asapp/sew-d-base-plus-400k-ft-ls100h", 0.001536815, 5, None),
    ],
    "image-to-text": [
        ("Salesforce/blip2-flan-t5-xxl", 0.179930966, 1, None),
        ("Salesforce/blip-image-captioning-large", 0.048511441, 5, None),
        ("Salesforce/blip-image-captioning-base", 0.04711837, 5, None),
        ("Salesforce/blip2-opt-2.7b", 0.101335529, 3, None),
        ("Salesforce/blip2-flan-t5-xl", 0.102152107, 3, None),
        ("Salesforce/blip2-opt-6.7b", 0.174957802, 1, None),
        ("microsoft/git-large-coco", 0.170319617, 1, None),
        ("microsoft/git-base", 0.074705602, 4, None),
        ("sashakunitsyn/vlrm-blip2-opt-2.7b", 0.103347386, 3, None),
        ("google/pix2struct-base", 0.04574709, 5, None),
    ],
    "text-to-image": [
        ("Mitsua/mitsua-diffusion-one", 0.186811914, 5, None),
        ("gsdf/Counterfeit-V2.5", 0.187366386, 5, None),
        ("stabilityai/sd-turbo", 0.189864946, 5, None),
        ("stabilityai/stable-cascade", 1.214355539, 2, None),
        ("stabilityai/stable-diffusion-2-1", 0.534466733, 4, None),
        ("stabilityai/sdxl-turbo", 0.385568798, 5, None),
        ("stabilityai/stable-diffusion-xl-base-1.0", 1.639845472, 1, None),
        ("dreamlike-art/dreamlike-photoreal-2.0", 0.581331892, 4, None),
        ("prompthero/openjourney-v4", 0.203367331, 5, None),
        ("prompthero/openjourney", 0.196880224, 5, None),
        ("SimianLuo/LCM_Dreamshaper_v7", 0.322044411, 5, None),
        ("Yntec/epiCPhotoGasm", 0.586574491, 4, None),
    ],
}

#: Forward calls per query: our summarization workload 1.0.0 (1 encoder pass + 64 decoder steps)
#: against the AES's (1 + 10). The entries pinned to workload 1.0.0 scale the AES figures by it.
SUMMARIZATION_SCALE = 65 / 11
TABLE_HARDWARE = ("A100", "H100", "H200")
CLASS_A = 7_000_000_000  # a text-generation size class A parameter count (up to 20B)


def wh(kwh_per_1000: float) -> float:
    """Wh per 1000 queries from the AES's kWh per 1000 queries."""
    return kwh_per_1000 * 1000


def population(task: str) -> dict[str, float]:
    """The published figures an entry is built from (Wh per 1000 queries), by model (one figure a
    model: the geometric mean of the rows of a model published twice).

    Text generation: size class A only. Text classification and question answering: without the
    google-t5 rows, which the AES ran as text-to-text generation (see the table's source).
    """
    rows = AES_H100[task]
    if task == "text-generation":
        rows = [r for r in rows if r[3] == "A"]
    if task in ("text-classification", "question-answering"):
        rows = [r for r in rows if not r[0].startswith("google-t5/")]
    figures: dict[str, list[float]] = {}
    for model, kwh, _, _ in rows:
        figures.setdefault(model, []).append(wh(kwh))
    # A model published twice counts once, with the geometric mean of its figures.
    return {model: math.exp(statistics.fmean(math.log(v) for v in vs)) for model, vs in figures.items()}


def centre(values: list[float]) -> float:
    """The median on a log scale: for an even count, the geometric mean of the two middle values."""
    return math.exp(statistics.median(math.log(v) for v in values))


def derive(values: list[float]) -> tuple[float, float, tuple[float, float, float, float]]:
    """The table's rule: range = median ÷/× k, k = max(median/min, max/median); log bands."""
    m = centre(values)
    k = max(m / min(values), max(values) / m)
    low, high = float(f"{m / k:.4g}"), float(f"{m * k:.4g}")
    return low, high, cut_points([low, high], "log")


def shipped_provisional():
    """The one shipped provisional table, read alone."""
    paths = [p for p in shipped_tables() if read_json(p)["status"] == "provisional"]
    assert [p.name for p in paths] == [f"rating-table-{VERSION}.json"]
    return decode_table(read_json(paths[0]))


def result(value: float, task: str = "text-classification", **knobs):
    """A synthetic canonical result whose mean GPU energy is ``value`` (two repetitions ±1 %)."""
    return make_energy_result(task=task, samples=(value * 0.99, value * 1.01), **knobs)


# --------------------------------------------------------------------------------------------
# The figures and the rule


def test_the_copied_figures_give_the_stars_the_aes_published():
    """Five equal linear bands over each task's range (per size class for text generation), as
    the AES describes its method, give every published star: a mistyped figure would show."""
    for task, rows in AES_H100.items():
        groups: dict[str | None, list[tuple[str, float, int, str | None]]] = {}
        for row in rows:
            groups.setdefault(row[3], []).append(row)
        for group in groups.values():
            low, high = min(r[1] for r in group), max(r[1] for r in group)
            for model, kwh, stars, _ in group:
                assert 5 - min(int((kwh - low) / (high - low) * 5), 4) == stars, (task, model)
    assert sum(len(rows) for rows in AES_H100.values()) == 101 + 65


def test_every_entry_is_derived_from_the_published_figures():
    """Each entry's population range and cut points are what the stated rule makes of the AES
    figures: the same numbers on A100, H100 and H200; summarization pinned to workload 1.0.0
    scales them by 65/11; no other hardware, no text-generation class B or C."""
    table = shipped_provisional()
    assert table.table_version == VERSION and table.status == "provisional" and table.method == "log"
    seen = set()
    for entry in table.entries:
        values = list(population(entry.task).values())
        if entry.workload_version == "1.0.0":
            assert entry.task == "summarization"
            values = [v * SUMMARIZATION_SCALE for v in values]
        else:  # summarization's 10-token workload 2.0.0 takes the AES figures as published
            assert entry.workload_version == ("2.0.0" if entry.task == "summarization" else None)
        low, high, cuts = derive(values)
        assert (entry.population.min, entry.population.max, entry.cut_points) == (low, high, cuts), entry
        assert entry.population.n == 0 and entry.population.model_ids is None
        assert entry.size_class == ("A" if entry.task == "text-generation" else None)
        seen.add((entry.task, entry.hardware_class, entry.workload_version))
    tasks = {(t, None) for t in AES_H100 if t != "summarization"}
    tasks |= {("summarization", "1.0.0"), ("summarization", "2.0.0")}
    assert seen == {(t, hw, v) for t, v in tasks for hw in TABLE_HARDWARE}


def test_every_entry_names_its_figures_and_the_source_says_where_they_come_from():
    table = shipped_provisional()
    for entry in table.entries:
        figures = population(entry.task)
        lowest = min(figures, key=figures.__getitem__)
        highest = max(figures, key=figures.__getitem__)
        assert lowest in entry.note and highest in entry.note, entry.note
        assert f"{len(figures)} published" in entry.note
    source = table.source
    for fact in (
        "github.com/ebbalg/AI-climate-overview",
        "AIEnergyScore/Leaderboard",
        "total_gpu_energy",
        "65/11",
        "google-t5",
        "H200",
        "B200",
        "tests/test_provisional_table.py",
        "image_captioning.csv",
        "geometric mean of its two figures",
        "30 inference steps",
        "never against these cut points",
    ):
        assert fact in source, fact


# --------------------------------------------------------------------------------------------
# Where published models land (a typical model mid-scale)


@pytest.mark.parametrize("task", list(AES_H100))
def test_the_median_published_model_lands_at_three_stars_and_few_get_four_or_five(task):
    """Table 0.1.0 gave every AES class-A text generator 4 or 5 stars and 9 of 11 AES summarizers
    5 stars; against this table the median published figure is mid-scale (3 stars) and at most
    half of the published models get 4 or 5 stars, on every task."""
    table = load_table()
    version = canonical_spec(task).version  # the current workload (summarization: 2.0.0, 10 tokens)
    entry = find_entry(table, task, "H100", version, "A" if task == "text-generation" else None)
    assert entry is not None and entry.workload_version in (None, version)
    figures = sorted(population(task).values())
    assert stars_for(centre(figures), entry.cut_points) == 3
    assert stars_for(statistics.median(figures), entry.cut_points) == 3
    stars = [stars_for(v, entry.cut_points) for v in figures]
    assert sum(s >= 4 for s in stars) <= len(stars) / 2
    assert len(set(stars)) >= 3  # the published population spreads over the scale


@pytest.mark.parametrize(
    ("task", "model", "expected"),
    [
        ("text-generation", "distilbert/distilgpt2", 5),
        ("text-generation", "openai-community/gpt2", 5),
        ("text-generation", "microsoft/phi-2", 3),
        ("text-generation", "meta-llama/Meta-Llama-3-8B", 2),
        ("text-generation", "microsoft/phi-4", 2),
        ("text-classification", "distilbert/distilbert-base-uncased-finetuned-sst-2-english", 4),
        ("text-classification", "Cheng98/bert-large-sst2", 1),
        ("question-answering", "deepset/deberta-v3-base-squad2", 3),
        ("sentence-similarity", "BAAI/bge-small-en-v1.5", 4),
        ("sentence-similarity", "Salesforce/SFR-Embedding-Mistral", 1),
    ],
)
def test_published_models_rated_through_rate(task, model, expected):
    """A canonical (synthetic) H100 result carrying a named model's published AES figure. (The
    parameter count only picks the size class: every AES text generator here is in class A.)"""
    value = population(task)[model]
    rating = rate(result(value, task=task, model_id=model, parameters=CLASS_A))
    assert rating.stars == expected, (model, value, rating.cut_points)
    assert rating.table_version == VERSION and rating.table_status == "provisional"


@pytest.mark.parametrize(
    ("task", "model", "expected"),
    [
        ("image-classification", "microsoft/resnet-50", 5),
        ("image-classification", "google/vit-base-patch16-224", 4),
        ("image-classification", "nvidia/mit-b5", 1),
        ("object-detection", "hustvl/yolos-tiny", 5),
        ("object-detection", "facebook/detr-resnet-50-dc5", 3),
        ("object-detection", "hustvl/yolos-base", 1),
        ("automatic-speech-recognition", "facebook/wav2vec2-base-960h", 5),
        ("automatic-speech-recognition", "openai/whisper-tiny", 3),
        ("automatic-speech-recognition", "openai/whisper-large-v3", 2),
        ("image-to-text", "Salesforce/blip-image-captioning-base", 5),
        ("image-to-text", "Salesforce/blip2-opt-2.7b", 3),
        ("image-to-text", "Salesforce/blip2-flan-t5-xxl", 1),
        ("text-to-image", "stabilityai/sd-turbo", 4),
        ("text-to-image", "stabilityai/stable-diffusion-2-1", 2),
        ("text-to-image", "stabilityai/stable-diffusion-xl-base-1.0", 1),
    ],
)
def test_published_image_audio_and_generation_models_land_where_their_figures_say(task, model, expected):
    """The five tasks table 0.3.0 adds (table 0.2.0 had no entry: every such result was unrated):
    a named model's published AES figure against the composed table's H100, H200 and A100 entry."""
    table = load_table()
    value = population(task)[model]
    for hardware in TABLE_HARDWARE:
        entry = find_entry(table, task, hardware, None)
        assert entry is not None and entry.provenance is not None
        assert entry.provenance.table_version == VERSION
        assert stars_for(value, entry.cut_points) == expected, (model, value, entry.cut_points)


def summarization_1_0_0(value: float):
    """A synthetic canonical result of the old summarization workload 1.0.0 (64 forced new tokens):
    the factory's result of the current workload, given 1.0.0's name, version, inputs and settings."""
    spec = canonical_spec("summarization", "1.0.0")
    data = make_result(
        task="summarization", model_id="google-t5/t5-small", samples=(value * 0.99, value * 1.01)
    )
    data["workload"].update(name=spec.name, version=spec.version, sha256=spec.sha256)
    data["workload"]["generation"] = spec.generation.to_dict()
    if data["workload"].get("generation_config"):
        data["workload"]["generation_config"].update(spec.generation.to_dict())
    return decode_result(data, source="test")


def test_summarization_of_workload_1_0_0_is_rated_against_the_scaled_figures():
    """Our summarization workload 1.0.0 forces 64 new tokens, the AES 10: a 1.0.0 result is rated
    by the entry pinned to 1.0.0 (AES figures × 65/11), never against the cut points of workload
    2.0.0 (10 forced tokens, issue 14), which hold the AES figures as published."""
    table = load_table()
    pinned = find_entry(table, "summarization", "H100", "1.0.0")
    current = find_entry(table, "summarization", "H100", "2.0.0")
    assert canonical_spec("summarization").version == "2.0.0"
    assert canonical_spec("summarization").generation.max_new_tokens == 10
    assert pinned.workload_version == "1.0.0" and current.workload_version == "2.0.0"
    assert pinned.cut_points == pytest.approx([c * SUMMARIZATION_SCALE for c in current.cut_points], rel=2e-3)
    t5_small = population("summarization")["google-t5/t5-small"]  # 2.27 Wh with 10 new tokens
    assert stars_for(t5_small, current.cut_points) == 3
    # The AES's own figure, measured on workload 2.0.0, rates against the AES-direct cut points.
    now = rate(result(t5_small, task="summarization", model_id="google-t5/t5-small"))
    assert now.workload_version == "2.0.0" and now.cut_points == current.cut_points and now.stars == 3
    old = rate(summarization_1_0_0(t5_small * SUMMARIZATION_SCALE))
    assert old.workload_version == "1.0.0" and old.cut_points == pinned.cut_points and old.stars == 3
    # Against the 2.0.0 cut points the same 64-token figure would be 2 stars.
    assert stars_for(t5_small * SUMMARIZATION_SCALE, current.cut_points) == 2
    # A summarization workload version no table entry covers is unrated, not rated by another's.
    assert find_entry(table, "summarization", "H100", "3.0.0") is None


# --------------------------------------------------------------------------------------------
# Hardware: H200 rated like H100, B200 unrated with the reason


@pytest.mark.parametrize(
    ("nvml_name", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", "H100"),
        ("NVIDIA H200", "H200"),
        ("NVIDIA H200 NVL", "H200"),
        ("NVIDIA B200", "B200"),
        ("NVIDIA A100-SXM4-80GB", "A100"),
    ],
)
def test_nvml_names_map_to_the_classes_the_table_is_keyed_by(nvml_name, expected):
    assert hardware_class(nvml_name) == expected


@pytest.mark.parametrize("value", [0.2, 0.3, 0.5])
def test_an_h200_result_is_rated_like_the_same_figure_on_an_h100(value):
    """Table 0.1.0 had no H200 entry, so an H200 result was unrated."""
    h100 = rate(result(value))
    h200 = rate(result(value, gpu_name="NVIDIA H200", hardware_class="H200"))
    assert h200.rated and h200.hardware_class == "H200"
    assert (h200.stars, h200.cut_points, h200.position) == (h100.stars, h100.cut_points, h100.position)
    assert h200.table_version == VERSION


def test_an_h200_text_generation_result_is_rated_and_a_b200_one_is_unrated_with_the_reason():
    figure = population("text-generation")["meta-llama/Meta-Llama-3-8B"]
    knobs = {"task": "text-generation", "parameters": CLASS_A}
    assert rate(result(figure, gpu_name="NVIDIA H200", hardware_class="H200", **knobs)).stars == 2
    b200 = rate(result(figure, gpu_name="NVIDIA B200", hardware_class="B200", **knobs))
    assert b200.stars is None and b200.cut_points is None and b200.value == pytest.approx(figure)
    reason = b200.unrated_reason
    assert "no entry for text-generation on B200" in reason
    assert "A100, H100, H200" in reason
    assert "only against cut points for its own GPU class" in reason
