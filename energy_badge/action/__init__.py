"""The steps of the GitHub Action ``.github/actions/energy-badge``, as a module that tests can run.

The action (a composite action) keeps each shell step to one line,
``"$EB_PYTHON" -m energy_badge.action STEP``; this module does the work. STEP is one of:

``measure``
    Check the inputs; run ``energy-badge measure`` (or take the result file given as ``result``);
    set the outputs ``result-path``, ``wh-per-1k``, ``stars``, ``queries-per-s``, and
    ``ENERGY_BADGE_RESULT`` for later steps of the job.
``compare``
    Compare with the baseline (a result file, or ``hub``: the model's ``energy/result.json`` on
    ``main`` of its Hub repo, downloaded with huggingface_hub); set ``regressed``, ``verdict`` and
    ``comparison-path`` (the comparison as JSON). A regression does *not* fail this step, so the
    summary is still written; the ``gate`` step fails the job at the end.
``publish``
    ``none``: nothing. ``pr`` / ``commit``: open (or update) a pull request, or commit, on the Hub
    with :func:`energy_badge.hub.commit_plan`; skipped when the result regressed. Sets ``status``,
    ``repo``, ``url``, ``commit``.
``summary``
    Append the Markdown job summary (:mod:`energy_badge.summary`) to ``$GITHUB_STEP_SUMMARY``:
    the result, the comparison with the baseline, what was published. Runs even when an earlier
    step failed, and then says which.
``gate``
    Fail (exit code 1) with an ``::error::`` annotation when ``regressed`` is ``true``.

Inputs come from environment variables (composite actions get no ``INPUT_*`` variables; the
action's ``env:`` maps each input to one of these, so no input is ever pasted into a script):
``EB_MODEL``, ``EB_TASK``, ``EB_RESULT``, ``EB_REPO``, ``EB_PUBLISH``, ``EB_BASELINE``,
``EB_MAX_REGRESSION``, ``EB_METRIC``, ``EB_ARGS``, ``EB_OUTPUT``; earlier steps' outputs arrive the
same way (``EB_RESULT_PATH``, ``EB_COMPARISON_PATH``, ``EB_REGRESSED``, ...). The Hub token is
``HF_TOKEN`` (set from a secret in the workflow's ``env:``); it is never put on a command line and
never printed. ``HF_ENDPOINT`` picks another Hub.

Outputs go to the files the runner names, in its documented formats: ``name=value`` lines in
``$GITHUB_OUTPUT`` and ``$GITHUB_ENV`` (``name<<DELIMITER`` blocks with a random delimiter for
values with line breaks), Markdown appended to ``$GITHUB_STEP_SUMMARY``. Log lines use workflow
commands (``::group::``, ``::error::``, ``::warning::``, ``::notice::``), escaped as the runner
expects. Exit codes are the CLI's (:mod:`energy_badge.errors`).
"""

from energy_badge.action.inputs import (
    BASELINE_HUB,
    BASELINE_NONE,
    PUBLISH_MODES,
    default_output,
    env,
    extra_args,
    hub_repo,
    max_regression,
    metric,
    publish_mode,
)
from energy_badge.action.steps import (
    EXIT_MEANINGS,
    HUB_RESULT_PATH,
    RESULT_ENV,
    STEPS,
    download_hub_baseline,
    main,
    summary_markdown,
)
from energy_badge.action.workflow import (
    add_summary,
    annotate,
    command,
    escape_data,
    escape_property,
    export_env,
    group,
    key_value_block,
    set_output,
)

__all__ = [
    "BASELINE_HUB",
    "BASELINE_NONE",
    "EXIT_MEANINGS",
    "HUB_RESULT_PATH",
    "PUBLISH_MODES",
    "RESULT_ENV",
    "STEPS",
    "add_summary",
    "annotate",
    "command",
    "default_output",
    "download_hub_baseline",
    "env",
    "escape_data",
    "escape_property",
    "export_env",
    "extra_args",
    "group",
    "hub_repo",
    "key_value_block",
    "main",
    "max_regression",
    "metric",
    "publish_mode",
    "set_output",
    "summary_markdown",
]
