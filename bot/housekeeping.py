"""Time passing, acted on: lapsed holds are freed, paid requests nobody answered in time are
refunded, urgent consults nobody took are refunded, every verified doctor's slots are kept
generated up to the booking horizon, and the audit chain's head is published outside the
database (every TELECARE_AUDIT_HEAD_SECONDS, when it moved). Runs wherever the outbox dispatcher runs (`serve` in
process, or `telecare worker`); several at once are safe, as every change is conditional on the
state it expects and refunds are idempotent by key."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import audit_heads
from backend.appointments import service as appointments
from backend.crypto import FieldCipher
from backend.models import utcnow
from backend.outbox.service import outbox_written
from backend.payments.gateway import Gateways
from backend.scheduling import service as scheduling
from backend.settings import Settings

log = structlog.get_logger(__name__)

SLOT_REFRESH = timedelta(hours=1)


class Housekeeper:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: FieldCipher,
        settings: Settings,
        gateways: Gateways,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.sessions, self.cipher, self.settings, self.gateways = sessions, cipher, settings, gateways
        self.wake = wake
        self._stopping = asyncio.Event()
        self._slots_refreshed: datetime | None = None
        self._head_checked: datetime | None = None

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.sweep_once()
            except Exception:  # a bad row or a database hiccup must not end the loop
                log.exception("housekeeping_failed")
            with contextlib.suppress(TimeoutError):  # the pause between sweeps, cut short by stop()
                await asyncio.wait_for(self._stopping.wait(), timeout=self.settings.sweep_seconds)

    def stop(self) -> None:
        self._stopping.set()

    async def sweep_once(self, now: datetime | None = None) -> int:
        """One pass: each due appointment in its own transaction, so a refund the gateway has
        made is committed with its appointment's change, and one that fails (a gateway away, a
        row that cannot be handled) is logged and tried again next time without holding up the
        others."""
        now = now or utcnow()
        async with self.sessions() as session:
            due = await appointments.due(session, now=now)
        done, wrote = 0, False
        for appointment_id in due:
            try:
                async with self.sessions() as session, session.begin():
                    done += await appointments.sweep_one(
                        session, self.cipher, self.settings, self.gateways, appointment_id, now=now
                    )
                    wrote = wrote or outbox_written(session)
            except Exception:
                log.exception("housekeeping_item_failed", appointment=appointment_id)
        if self._slots_refreshed is None or now - self._slots_refreshed >= SLOT_REFRESH:
            async with self.sessions() as session, session.begin():
                await scheduling.refresh_all(
                    session, now=now, horizon_days=self.settings.booking_horizon_days
                )
            self._slots_refreshed = now
        await self._publish_audit_head(now)
        if done:
            log.info("housekeeping_done", changed=done)
        if wrote and self.wake:
            self.wake()
        return done

    async def _publish_audit_head(self, now: datetime) -> None:
        """A refused publication (the chain no longer extends the last published head) is
        logged by audit_heads and tried again next interval; so is a head file that cannot be
        written (a full disk, a read-only folder): the sweep goes on either way."""
        interval = timedelta(seconds=self.settings.audit_head_seconds)
        if self._head_checked is not None and now - self._head_checked < interval:
            return
        self._head_checked = now
        try:
            async with self.sessions() as session:
                await audit_heads.publish(session, self.settings.audit_head_file, now=now)
        except audit_heads.HeadFileError:
            pass  # logged as audit_head_refused
        except OSError as failure:
            log.error(
                "audit_head_failed", error=type(failure).__name__, file=str(self.settings.audit_head_file)
            )
