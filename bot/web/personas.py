"""Development/demo persona picker: become the demo doctor, pharmacy, lab, admin or patient in
this browser, or start as a brand-new patient. Outside development/demo mode the routes that use
it answer 404."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import demo
from backend.accounts import service as accounts
from backend.crypto import FieldCipher
from backend.models import Channel

NEW_PATIENT = "new-patient"


@dataclass
class Personas:
    sessions: async_sessionmaker[AsyncSession]
    cipher: FieldCipher

    async def list(self) -> list[dict]:
        found = [{"id": NEW_PATIENT, "label": "New patient"}]
        async with self.sessions() as session:
            for persona, key in demo.PERSONAS.items():
                user = await accounts.find_user_by_contact(
                    session, self.cipher, "email", demo.demo_email(key)
                )
                if user is not None:
                    found.append(
                        {"id": persona, "label": f"{user.display_name or persona} ({user.role.value})"}
                    )
        return found

    async def assume(self, persona: str, address: str) -> bool:
        """Link the chat at `address` to the persona's user. False for an unknown persona."""
        if persona == NEW_PATIENT:
            return True  # a fresh, unlinked chat is exactly a new patient
        key = demo.PERSONAS.get(persona)
        if key is None:
            return False
        async with self.sessions() as session, session.begin():
            user = await accounts.find_user_by_contact(session, self.cipher, "email", demo.demo_email(key))
            if user is None:
                return False
            identity = await accounts.identity_for(session, self.cipher, Channel.WEB.value, address)
            await accounts.link_identity(session, identity, user)
        return True
