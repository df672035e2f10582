"""`flask rounds …`: plan, open, close and list application rounds from a terminal — the
same service as the /rounds page and /api/v1/rounds, acting as a named ministry user."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import AppGroup

from web.extensions import uow
from workflow.errors import DomainError

rounds_cli = AppGroup("rounds", help="Application rounds: plan, open, close, list.")


def _user_id(username: str) -> int:
    from workflow.storage import users_repo

    with uow() as u:
        user = users_repo.user_by_username(u.session, username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        return user.id


def _changes(internal: str | None, submission: str | None, approval: str | None,
             notice_days: int | None, fields: tuple[str, ...], quotas: tuple[str, ...],
             target: int | None, name_zh: str | None, name_en: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in (("provincial_internal_deadline", internal),
                       ("submission_deadline", submission), ("approval_deadline", approval),
                       ("notice_working_days", notice_days), ("national_new_target", target),
                       ("name_zh", name_zh), ("name_en", name_en)):
        if value is not None:
            data[key] = value
    if fields:
        data["new_base_fields"] = list(fields)
    if quotas:
        overrides = {}
        for item in quotas:
            code, sep, n = item.partition("=")
            if not sep:
                raise click.BadParameter(f"{item!r}: use CODE=N, e.g. 620000=2",
                                         param_hint="--quota")
            overrides[code.strip()] = n.strip()
        data["quota_overrides"] = overrides
    return data


def _report(outcome: Any) -> None:
    row = outcome.row
    click.echo(json.dumps({"year": row.year, "status": outcome.status.value,
                           "opened_on": row.opened_on.isoformat() if row.opened_on else None,
                           "closed_on": row.closed_on.isoformat() if row.closed_on else None,
                           "calendar": {k: (v.isoformat() if v else None) for k, v in (
                               ("provincial_internal_deadline",
                                outcome.rules.provincial_internal_deadline),
                               ("submission_deadline", outcome.rules.submission_deadline),
                               ("approval_deadline", outcome.rules.approval_deadline))},
                           "notice_working_days": outcome.rules.notice_working_days},
                          ensure_ascii=False))
    for w in outcome.warnings:
        click.echo(f"warning [{w.code}] {w.en}", err=True)


def _fail(err: DomainError) -> None:
    lines = [f"[{r.code}]{' ' + r.field + ':' if r.field else ''} {r.en}" for r in err.refusals]
    raise click.ClickException("; ".join(lines))


PROGRAMME = click.option("--programme", "code", default="mofcom-2006-6", show_default=True,
                         help="the programme of the round (programmes/<code>.toml)")


def _options(fn: Any) -> Any:
    for opt in reversed((
        click.option("--year", type=int, required=True),
        click.option("--internal", help="the province's internal deadline, YYYY-MM-DD"),
        click.option("--submission", help="submission to the ministry, YYYY-MM-DD"),
        click.option("--approval", help="approval deadline, YYYY-MM-DD"),
        click.option("--notice-days", type=int, help="public notice, working days"),
        click.option("--field", "fields", multiple=True,
                     help="a field for new bases (repeat), e.g. information"),
        click.option("--quota", "quotas", multiple=True,
                     help="CODE=N: an authority's new-base quota this round (repeat)"),
        click.option("--target", type=int, help="national target of new bases"),
        click.option("--name-zh"), click.option("--name-en"),
        click.option("--as-user", "username", required=True,
                     help="the programme owner acting (recorded in the audit log)"),
        PROGRAMME,
    )):
        fn = opt(fn)
    return fn


@rounds_cli.command("plan")
@_options
def plan_command(year: int, username: str, code: str, **kw: Any) -> None:
    """Plan a round (not yet open): its dates may still change."""
    from workflow.services import rounds

    try:
        _report(rounds.plan(uow(), _user_id(username),
                            {"year": year, "programme": code, **_changes(**kw)}))
    except DomainError as err:
        _fail(err)


@rounds_cli.command("open")
@_options
def open_command(year: int, username: str, code: str, **kw: Any) -> None:
    """Open a round today (planning it first if it does not exist; options change it
    before it opens). From then on its rules are frozen."""
    from workflow.services import rounds
    from workflow.storage import rounds_repo

    uid = _user_id(username)
    changes = _changes(**kw)
    try:
        with uow() as u:
            exists = rounds_repo.round_by_year(u.session, year, code) is not None
        if not exists:
            rounds.plan(uow(), uid, {"year": year, "programme": code, **changes})
        elif changes:
            rounds.change(uow(), uid, year, changes, code=code)
        _report(rounds.open_round(uow(), uid, year, code=code))
    except DomainError as err:
        _fail(err)


@rounds_cli.command("close")
@click.option("--year", type=int, required=True)
@click.option("--as-user", "username", required=True)
@PROGRAMME
def close_command(year: int, username: str, code: str) -> None:
    """Close an open round today."""
    from workflow.services import rounds

    try:
        _report(rounds.close_round(uow(), _user_id(username), year, code=code))
    except DomainError as err:
        _fail(err)


@rounds_cli.command("list")
def list_command() -> None:
    """Every round with its status and dates."""
    from workflow.rules import round_status
    from workflow.services.clock import today
    from workflow.storage import rounds_repo
    from workflow.storage.models import RoundRow

    with uow() as u:
        for row in u.session.query(RoundRow).order_by(RoundRow.year.desc()):
            rules = rounds_repo.rules_of(row)
            click.echo(f"{row.year}  {round_status(row.opened_on, row.closed_on, today()).value:8}"
                       f"  opened {row.opened_on or '—'}  closed {row.closed_on or '—'}  "
                       f"submission {rules.submission_deadline}  approval "
                       f"{rules.approval_deadline}  {row.programme}  {row.name_zh}")
