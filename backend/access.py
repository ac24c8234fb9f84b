"""The one access policy: `can(actor, action, resource)`, deny by default.

Services ask it before every read or change of health data and write one audit entry either way.
Add a rule here, with a test, when a new kind of access is needed; never check roles ad hoc."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from backend.models.users import Role


class Action(enum.StrEnum):
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    VERIFY_AUDIT = "verify_audit"


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    role: Role


SYSTEM = Actor(user_id="system", role=Role.ADMIN)  # migrations, demo loader, key rotation


@dataclass(frozen=True, slots=True)
class Resource:
    kind: str  # "patient_profile", "audit_log", ...
    patient_id: str | None = None
    doctor_user_id: str | None = None  # the doctor's user, for resources shared with a doctor


class AccessDenied(Exception):
    def __init__(self, actor: Actor, action: Action, resource: Resource) -> None:
        super().__init__(f"{actor.role} {actor.user_id} may not {action} {resource.kind}")
        self.actor, self.action, self.resource = actor, action, resource


def can(actor: Actor | None, action: Action, resource: Resource) -> bool:
    if actor is None:
        return False
    if resource.kind == "patient_profile":
        # A patient reads and edits their own profile. Doctors will be allowed while they have an
        # appointment with the patient (booking issue); admins do not read clinical records.
        return (
            actor.role is Role.PATIENT
            and resource.patient_id is not None
            and actor.user_id == resource.patient_id
            and action in (Action.READ, Action.CREATE, Action.UPDATE)
        )
    if resource.kind == "appointment":
        # The reason for a visit and the appointment itself: its patient and its doctor.
        mine = actor.user_id in (resource.patient_id, resource.doctor_user_id)
        return mine and actor.role in (Role.PATIENT, Role.DOCTOR) and action in (Action.READ, Action.UPDATE)
    if resource.kind == "provider_application":
        # Deciding on a doctor's, pharmacy's or lab's application to join: admins only.
        return actor.role is Role.ADMIN and action in (Action.READ, Action.UPDATE)
    if resource.kind == "provider_document":
        # Licences and ID proofs sent with an application: read by admins deciding on it.
        return actor.role is Role.ADMIN and action is Action.READ
    if resource.kind == "web_chat_history":
        # What a web chat showed: read back only by the account the chat belongs to (the page
        # that holds the chat's address); `patient_id` names that account, whatever its role.
        return action is Action.READ and actor.user_id == resource.patient_id
    if resource.kind == "audit_log":
        return actor.role is Role.ADMIN and action in (Action.READ, Action.VERIFY_AUDIT)
    return False
