"""``energy-badge publish``: commit the badge, the card block and the result to the model's Hub repo."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from energy_badge.cli._options import reasoning_on_option, table_option

if TYPE_CHECKING:
    from energy_badge.hub import PublishOutcome


@click.command()
@click.argument("result_file", metavar="RESULT", type=click.Path(dir_okay=False))
@click.option(
    "--repo",
    "repo_id",
    metavar="ORG/NAME",
    help="The model repo. Default: the measured Hub model; required for a result of a local folder.",
)
@click.option(
    "--create-pr", is_flag=True, help="Open (or update) a pull request instead of committing to main."
)
@click.option(
    "--dry-run", is_flag=True, help="Show the card diff and the files it would commit; write nothing."
)
@table_option
@reasoning_on_option
def publish(
    result_file: str,
    repo_id: str | None,
    create_pr: bool,
    dry_run: bool,
    table_file: str | None,
    reasoning_on_file: str | None,
) -> None:
    """Put RESULT's badge on its model's Hub page, in one commit (or pull request).

    \b
    The commit holds:
      README.md            the energy_score: key and the badge block (nothing else changes)
      energy/badge.svg     the badge
      energy/result.json   the result file

    Running it again changes nothing when the Hub already has this badge, and with --create-pr
    updates the open pull request instead of opening another. The token comes from HF_TOKEN or
    `hf auth login`; HF_ENDPOINT picks another Hub. Only a canonical result measured with the
    model's own weights is published (exit code 4 otherwise); exit code 4 also when the repo is
    not found or not writable, 5 when the Hub cannot be reached. When the card's pipeline_tag or
    base_model contradicts the result, a `warning:` line says so on stderr and the badge is still
    published (the same rule as `energy-badge card`).

    With --reasoning-on, the same model's reasoning-on result goes to energy/result-reasoning-on.json
    and the card's block and key, the badge's description and the commit add the multiplier
    ("reasoning on: 41× the energy per query"); two results that are not one model's off and on are
    refused (exit code 2).
    """
    from energy_badge import hub
    from energy_badge.publish import badge_alt_text, publish_plan
    from energy_badge.rating import load_table, rate
    from energy_badge.result import load_result

    result = load_result(result_file)
    reasoning_on = load_result(reasoning_on_file) if reasoning_on_file is not None else None
    rating = rate(result, load_table(table_file))
    warned: set[str] = set()

    def on_warning(line: str) -> None:  # the README is edited again on each round: say it once
        if line not in warned:
            warned.add(line)
            click.echo(f"warning: {line}", err=True)

    plan = publish_plan(
        result, rating, repo_id=repo_id, create_pr=create_pr, on_warning=on_warning, reasoning_on=reasoning_on
    )
    click.echo(f"{plan.repo_id}: {badge_alt_text(rating)} (rating table {rating.table_version})")
    if rating.stars is None:
        click.echo(f"unrated: {rating.unrated_reason}")

    def on_event(message: str) -> None:
        click.echo(f"  {message}", err=True)

    outcome = hub.commit_plan(plan, dry_run=dry_run, on_event=on_event)
    _print_outcome(outcome, create_pr, hub.resolve_endpoint())


def _print_outcome(outcome: PublishOutcome, create_pr: bool, endpoint: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(soft_wrap=True, highlight=False)
    repo = escape(outcome.repo_id)
    files = ", ".join(outcome.files)
    status = outcome.status
    if status == "committed":
        console.print(
            f"[green]committed[/green] {(outcome.commit_sha or '')[:12]} to {repo} (main): {escape(files)}"
        )
        console.print(escape(f"{endpoint}/{outcome.repo_id}/commit/{outcome.commit_sha}"))
    elif status == "pr_opened":
        console.print(f"[green]opened pull request #{outcome.pr_num}[/green] on {repo}: {escape(files)}")
        console.print(escape(outcome.pr_url or ""))
    elif status == "pr_updated":
        console.print(f"[green]updated pull request #{outcome.pr_num}[/green] on {repo}: {escape(files)}")
        console.print(escape(outcome.pr_url or ""))
    elif status == "unchanged":
        where = f"pull request #{outcome.pr_num}" if outcome.pr_num is not None else "main"
        console.print(
            f"no change: the Hub already has this badge ({repo} {where} at {(outcome.commit_sha or '')[:12]})"
        )
        if outcome.pr_url:
            console.print(escape(outcome.pr_url))
    else:  # dry_run
        if outcome.pr_num is not None:
            action = f"update pull request #{outcome.pr_num} on {repo}"
        elif create_pr:
            action = f"open a pull request on {repo}"
        else:
            action = f"commit to {repo} (main)"
        console.print(f"[yellow]dry run[/yellow]: nothing written; it would {action}: {escape(files)}")
        if outcome.readme_diff:
            click.echo(outcome.readme_diff, nl=False)
        else:
            console.print("README.md: no change")
