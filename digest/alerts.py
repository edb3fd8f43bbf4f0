"""Immediate alerts: batching, ``min_interval`` throttling and quiet hours.

A poll's new matches for watchlists with ``alert = true`` are queued in the store. The queue
goes out as ONE alert mail as soon as that is allowed: at most one alert mail per
``min_interval``, and never inside ``quiet_hours`` (local time in the configured zone;
``22:00-07:00`` crosses midnight). Matches that arrive while waiting join the same mail;
nothing is dropped. The time rules are pure functions of an injected ``now``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from digest.builder import build_alert
from digest.config import Alerts, Config
from digest.mail import build_message, make_message_id
from digest.models import Match, Outgoing
from digest.pipeline import Runtime

log = logging.getLogger(__name__)

QuietHours = tuple[tuple[int, int], tuple[int, int]]


def quiet_until(moment: datetime, quiet_hours: QuietHours | None,
                tz: ZoneInfo) -> datetime | None:
    """When ``moment`` falls inside the quiet window, the (UTC) time the window ends;
    else None. A window whose start equals its end is empty."""
    if quiet_hours is None:
        return None
    (start_h, start_m), (end_h, end_m) = quiet_hours
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    local = moment.astimezone(tz)
    now = local.hour * 60 + local.minute
    if start == end:
        return None
    if start < end:
        inside, end_day = start <= now < end, local.date()
    else:  # crosses midnight
        inside = now >= start or now < end
        end_day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not inside:
        return None
    ends = datetime.combine(end_day, time(end_h, end_m), tzinfo=tz)
    return ends.astimezone(timezone.utc)


def next_alert_time(now: datetime, *, last_sent: datetime | None, rules: Alerts,
                    tz: ZoneInfo) -> datetime:
    """The earliest moment (≥ ``now``) an alert mail may go out."""
    earliest = now if last_sent is None else max(now, last_sent + rules.min_interval)
    return quiet_until(earliest, rules.quiet_hours, tz) or earliest


def alerting_watchlists(config: Config) -> frozenset[str]:
    return frozenset(w.name for w in config.watchlists if w.alert)


def queue_matches(rt: Runtime, matches: Sequence[Match]) -> int:
    """Queue the matches of alerting watchlists; the number newly queued."""
    names = alerting_watchlists(rt.config)
    wanted = [match for match in matches if match.watchlist in names]
    if not wanted:
        return 0
    if rt.config.alerts is None:
        log.warning("watchlists %s have alert = true but there is no [alerts] section: "
                    "no alert is sent", ", ".join(sorted({m.watchlist for m in wanted})))
        return 0
    return rt.store.queue_alerts(wanted, rt.clock())


def due_time(rt: Runtime) -> datetime | None:
    """When the queued alerts may go out; None when nothing waits (or alerts are off)."""
    rules = rt.config.alerts
    if rules is None or not rt.store.has_pending_alerts():
        return None
    return next_alert_time(rt.clock(), last_sent=rt.store.last_alert_time(), rules=rules,
                           tz=rt.config.timezone)


def send_if_due(rt: Runtime) -> Outgoing | None:
    """Build and queue one alert mail with everything pending, if now is allowed.

    The message enters the outbox and the matches are marked alerted in one transaction;
    delivering it is the caller's next step (``pipeline.deliver``).
    """
    rules = rt.config.alerts
    if rules is None:
        return None
    now = rt.clock()
    with rt.store.transaction():
        pending = rt.store.pending_alerts()
        if not pending:
            return None
        when = next_alert_time(now, last_sent=rt.store.last_alert_time(), rules=rules,
                               tz=rt.config.timezone)
        if when > now:
            log.info("%d alert match(es) wait until %s", len(pending), when.isoformat())
            return None
        message = alert_message(rt, pending, rules, now)
        rt.store.commit_alert(message, pending, now)
    log.info("alert queued: %s (%d match(es))", message.subject, len(pending))
    return message


def alert_message(rt: Runtime, matches: Sequence[Match], rules: Alerts,
                  now: datetime) -> Outgoing:
    names = list(dict.fromkeys(match.watchlist for match in matches))
    order = [w.name for w in rt.config.watchlists if w.name in names]
    order += [name for name in names if name not in order]  # removed since they matched
    alert = build_alert(matches, at=now, recipients=rules.to, watchlists=order)
    rendered = rt.renderer.render_alert(alert)
    sender = rt.config.delivery.sender
    key = "|".join(sorted(f"{m.article.id}/{m.watchlist}" for m in matches))
    return build_message(rendered, kind="alert", name=alert.name, sender=sender,
                         recipients=rules.to,
                         message_id=make_message_id("alert", alert.name, key, sender),
                         date=now)
