"""`flask reminders …`: run a scan as of a given moment, send the outbox, re-plan."""

from __future__ import annotations

import json
from datetime import datetime

import click
from flask.cli import AppGroup

from web.extensions import settings, uow
from workflow.services.clock import CHINA

reminders_cli = AppGroup("reminders", help="Deadline reminders and the mail outbox.")


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2006-04-20T09:00+08:00",
                                 param_hint="--at") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


@reminders_cli.command("scan")
@click.option("--at", "at", help="the moment to scan as of (ISO 8601; default now, "
              "Beijing time if no offset), e.g. 2006-04-20T09:00+08:00")
@click.option("--send/--no-send", default=False,
              help="also send the outbox here and now (default: leave it to the workers)")
def scan_command(at: str | None, send: bool) -> None:
    """Write the reminders due at --at to the outbox (safe to repeat: no duplicates)."""
    from workflow.services import mail, reminders

    result = reminders.scan(uow(), _moment(at), base_url=settings().base_url)
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    if send:
        done = mail.send_due(uow(), limit=100000, settings=settings())
        click.echo(json.dumps({"sent": done.sent, "failed": done.failed, "dead": done.dead,
                               "cancelled": done.cancelled}))
    elif result.written or result.digests:
        from tasks.mail import nudge

        nudge()


@reminders_cli.command("send")
@click.option("--limit", default=1000, show_default=True)
def send_command(limit: int) -> None:
    """Send what is due in the outbox now, from this process."""
    from workflow.services import mail

    done = mail.send_due(uow(), limit=limit, settings=settings())
    click.echo(json.dumps({"sent": done.sent, "failed": done.failed, "dead": done.dead,
                           "cancelled": done.cancelled}))


@reminders_cli.command("replan")
@click.option("--round", "round_year", type=int, default=None, help="only this round's cases")
@click.option("--programme", "code", default=None,
              help="only this programme's cases (with --round: its round of that year; "
                   "a year alone is notice 002's)")
def replan_command(round_year: int | None, code: str | None) -> None:
    """Re-plan every open case at the next scan (after a round's dates or rules change)."""
    from workflow.errors import DomainError
    from workflow.services import reminders

    try:
        n = reminders.replan(uow(), round_year, code=code)
    except DomainError as err:
        raise click.ClickException(err.first.message("zh")) from None
    click.echo(f"{n} cases will be re-planned")
