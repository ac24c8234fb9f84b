"""The one access policy: `can(actor, action, resource)`, deny by default.

Services ask it before every read or change of health data and write one audit entry either way.
Add a rule here, with a test, when a new kind of access is needed; never check roles ad hoc."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.models.appointments import AppointmentStatus
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
class CareLink:
    """An appointment joining a doctor to a patient, as the database holds it at the moment of an
    access: the policy decides from it whether the doctor may see the patient's profile."""

    doctor_user_id: str | None
    patient_id: str  # the appointment's patient: the only one it lets the doctor see
    status: AppointmentStatus
    ends_at: datetime | None
    at: datetime  # when the access happens
    urgent: bool = False  # an urgent consult, taken by the doctor from the on-call offer


# A doctor reads a patient's profile through an appointment in one of these states, until this long
# after its end: before the consult (a request to decide on, a confirmed visit), during it, and for
# the follow-up notes of the day after. Never through a cancelled, rejected, expired or no-show one.
DOCTOR_READS_THROUGH = frozenset(
    {AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED, AppointmentStatus.COMPLETED}
)
DOCTOR_READS_AFTER_END = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Resource:
    kind: str  # "patient_profile", "audit_log", ...
    patient_id: str | None = None
    doctor_user_id: str | None = None  # the doctor's user, for resources shared with a doctor
    care: CareLink | None = None  # a patient's profile seen by a doctor: the appointment that joins them


class AccessDenied(Exception):
    def __init__(self, actor: Actor, action: Action, resource: Resource) -> None:
        super().__init__(f"{actor.role} {actor.user_id} may not {action} {resource.kind}")
        self.actor, self.action, self.resource = actor, action, resource


def can(actor: Actor | None, action: Action, resource: Resource) -> bool:
    if actor is None:
        return False
    if resource.kind == "patient_profile":
        # A patient reads and edits their own profile; a doctor reads it while an appointment joins
        # them (see DOCTOR_READS_THROUGH); admins do not read clinical records.
        if actor.role is Role.DOCTOR:
            return action is Action.READ and _in_care(actor, resource)
        return (
            actor.role is Role.PATIENT
            and resource.patient_id is not None
            and actor.user_id == resource.patient_id
            and action in (Action.READ, Action.CREATE, Action.UPDATE)
        )
    if resource.kind == "red_flags":
        # The emergency red flags a patient raised in chat: their doctor reads them exactly as the
        # profile, through the appointment that joins them; nobody else (the operators' report
        # counts them without naming anyone).
        return actor.role is Role.DOCTOR and action is Action.READ and _in_care(actor, resource)
    if resource.kind == "appointment":
        # The reason for a visit and the appointment itself: its patient and its doctor.
        mine = actor.user_id in (resource.patient_id, resource.doctor_user_id)
        return mine and actor.role in (Role.PATIENT, Role.DOCTOR) and action in (Action.READ, Action.UPDATE)
    if resource.kind == "patient_contact":
        # The phone number (or email) a patient verified, read by the doctor who took their urgent
        # consult, to call them now: consultations in the chat are not built yet. Only while it runs.
        return actor.role is Role.DOCTOR and action is Action.READ and _taking_urgent(actor, resource)
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


def _in_care(actor: Actor, resource: Resource) -> bool:
    care = resource.care
    return (
        care is not None
        and resource.patient_id is not None
        and care.patient_id == resource.patient_id
        and care.doctor_user_id is not None
        and care.doctor_user_id == actor.user_id
        and care.status in DOCTOR_READS_THROUGH
        and care.ends_at is not None
        and care.at <= care.ends_at + DOCTOR_READS_AFTER_END
    )


def _taking_urgent(actor: Actor, resource: Resource) -> bool:
    care = resource.care
    return (
        care is not None
        and care.urgent
        and resource.patient_id is not None
        and care.patient_id == resource.patient_id
        and care.doctor_user_id == actor.user_id
        and care.status is AppointmentStatus.CONFIRMED
        and care.ends_at is not None
        and care.at <= care.ends_at
    )
