"""The access policy, table-driven: deny by default, a patient owns their profile, admins verify the audit log."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from backend.access import SYSTEM, Action, Actor, CareLink, Resource, can
from backend.models import AppointmentStatus, Role

ALL_ROLES = list(Role)
ALL_ACTIONS = list(Action)
PATIENT_ID = "patient-1"
OTHER_ID = "patient-2"
DOCTOR = Actor("doctor-1", Role.DOCTOR)
ENDS = datetime(2031, 6, 2, 10, 15, tzinfo=UTC)


def care(
    status=AppointmentStatus.CONFIRMED,
    *,
    at=ENDS,
    doctor="doctor-1",
    ends=ENDS,
    urgent=False,
    patient=PATIENT_ID,
) -> CareLink:
    """An appointment between `doctor` and `patient` (doctor-1, patient-1) that ends at ENDS, looked at `at`."""
    return CareLink(
        doctor_user_id=doctor, patient_id=patient, status=status, ends_at=ends, at=at, urgent=urgent
    )


def contact(link: CareLink | None, patient_id: str | None = PATIENT_ID) -> Resource:
    """The patient's verified phone or email, as the doctor who took their urgent consult reads it."""
    return Resource("patient_contact", patient_id, care=link)


def seen_by_doctor(link: CareLink | None, patient_id: str | None = PATIENT_ID) -> Resource:
    return Resource("patient_profile", patient_id, care=link)


def _id(value) -> str:
    if isinstance(value, Actor):
        return f"{value.role.value}:{value.user_id}"
    if isinstance(value, Resource):
        return f"{value.kind or '<empty>'}:{value.patient_id}"
    if value is None:
        return "None"
    return str(value)


ALLOWED = [
    (Actor(PATIENT_ID, Role.PATIENT), Action.READ, Resource("patient_profile", PATIENT_ID)),
    (Actor(PATIENT_ID, Role.PATIENT), Action.CREATE, Resource("patient_profile", PATIENT_ID)),
    (Actor(PATIENT_ID, Role.PATIENT), Action.UPDATE, Resource("patient_profile", PATIENT_ID)),
    (Actor("admin-1", Role.ADMIN), Action.VERIFY_AUDIT, Resource("audit_log")),
    (Actor("admin-1", Role.ADMIN), Action.READ, Resource("audit_log")),
    # A doctor reads the profile through a requested, confirmed or completed appointment with the
    # patient: before it, during it and up to 24 hours after its end.
    (DOCTOR, Action.READ, seen_by_doctor(care(AppointmentStatus.REQUESTED, at=ENDS - timedelta(days=3)))),
    (DOCTOR, Action.READ, seen_by_doctor(care(AppointmentStatus.CONFIRMED, at=ENDS - timedelta(minutes=5)))),
    (DOCTOR, Action.READ, seen_by_doctor(care(AppointmentStatus.CONFIRMED, at=ENDS + timedelta(hours=24)))),
    (DOCTOR, Action.READ, seen_by_doctor(care(AppointmentStatus.COMPLETED, at=ENDS + timedelta(hours=23)))),
    # The doctor who took an urgent consult reads the patient's contact, to call them, until its end.
    (DOCTOR, Action.READ, contact(care(urgent=True, at=ENDS - timedelta(minutes=14)))),
    (DOCTOR, Action.READ, contact(care(urgent=True, at=ENDS))),
]


@pytest.mark.parametrize(("actor", "action", "resource"), ALLOWED, ids=_id)
def test_allowed(actor, action, resource) -> None:
    assert can(actor, action, resource) is True


DENIED = [
    # Unknown resource kinds are denied for everyone, whatever the action.
    *(
        (Actor(PATIENT_ID if role is Role.PATIENT else f"{role}-1", role), action, Resource(kind, PATIENT_ID))
        for role, action, kind in itertools.product(
            ALL_ROLES, ALL_ACTIONS, ["prescription", "", "PATIENT_PROFILE", "patient_profile ", "Audit_Log"]
        )
    ),
    # No actor: nothing at all.
    *(
        (None, action, Resource(kind, PATIENT_ID))
        for action, kind in itertools.product(ALL_ACTIONS, ["patient_profile", "audit_log", "prescription"])
    ),
    # Every role, for every action, on another patient's profile.
    *(
        (Actor(PATIENT_ID, role), action, Resource("patient_profile", OTHER_ID))
        for role, action in itertools.product(ALL_ROLES, ALL_ACTIONS)
    ),
    # Admins (and the SYSTEM actor) do not read clinical records.
    (Actor("admin-1", Role.ADMIN), Action.READ, Resource("patient_profile", PATIENT_ID)),
    (SYSTEM, Action.READ, Resource("patient_profile", PATIENT_ID)),
    (SYSTEM, Action.UPDATE, Resource("patient_profile", PATIENT_ID)),
    # A non-patient whose user id happens to equal the patient id is still not the patient.
    *(
        (Actor(PATIENT_ID, role), action, Resource("patient_profile", PATIENT_ID))
        for role, action in itertools.product([r for r in ALL_ROLES if r is not Role.PATIENT], ALL_ACTIONS)
    ),
    # A patient's own profile, but an action the policy does not grant.
    (Actor(PATIENT_ID, Role.PATIENT), Action.VERIFY_AUDIT, Resource("patient_profile", PATIENT_ID)),
    # A profile without a patient id belongs to nobody.
    (Actor(PATIENT_ID, Role.PATIENT), Action.READ, Resource("patient_profile", None)),
    # Only admins may verify (or read) the audit log, and nobody may change it.
    *(
        (Actor(f"{role}-1", role), action, Resource("audit_log"))
        for role, action in itertools.product(
            [r for r in ALL_ROLES if r is not Role.ADMIN], [Action.VERIFY_AUDIT, Action.READ]
        )
    ),
    (Actor("admin-1", Role.ADMIN), Action.UPDATE, Resource("audit_log")),
    (Actor("admin-1", Role.ADMIN), Action.CREATE, Resource("audit_log")),
    # A doctor: never without an appointment, never through one that ended badly, never another
    # doctor's, never past 24 hours after the end, never anything but reading.
    (DOCTOR, Action.READ, seen_by_doctor(None)),
    *(
        (DOCTOR, Action.READ, seen_by_doctor(care(status, at=ENDS - timedelta(hours=1))))
        for status in (
            AppointmentStatus.HELD,
            AppointmentStatus.CANCELLED,
            AppointmentStatus.REJECTED,
            AppointmentStatus.EXPIRED,
            AppointmentStatus.NO_SHOW,
        )
    ),
    (DOCTOR, Action.READ, seen_by_doctor(care(doctor="doctor-2"))),
    (DOCTOR, Action.READ, seen_by_doctor(care(doctor=None))),
    # An appointment with one patient opens nobody else's profile or contact.
    (DOCTOR, Action.READ, seen_by_doctor(care(patient=OTHER_ID))),
    (DOCTOR, Action.READ, contact(care(urgent=True, patient=OTHER_ID, at=ENDS - timedelta(minutes=5)))),
    (DOCTOR, Action.READ, seen_by_doctor(care(at=ENDS + timedelta(hours=24, seconds=1)))),
    (DOCTOR, Action.READ, seen_by_doctor(care(AppointmentStatus.COMPLETED, at=ENDS + timedelta(days=2)))),
    (DOCTOR, Action.READ, seen_by_doctor(care(ends=None))),
    (DOCTOR, Action.READ, seen_by_doctor(care(), patient_id=None)),
    *((DOCTOR, action, seen_by_doctor(care())) for action in ALL_ACTIONS if action is not Action.READ),
    # The appointment's doctor link grants nothing to anyone else who is not the patient.
    *(
        (Actor("doctor-1", role), Action.READ, seen_by_doctor(care()))
        for role in ALL_ROLES
        if role not in (Role.DOCTOR, Role.PATIENT)
    ),
    (Actor(OTHER_ID, Role.PATIENT), Action.READ, seen_by_doctor(care())),
    # A patient's contact: only through a confirmed urgent consult, only its doctor, only reading,
    # only until its end; never through an ordinary appointment (those meet in the consultation).
    (DOCTOR, Action.READ, contact(care(urgent=False))),
    (DOCTOR, Action.READ, contact(None)),
    (DOCTOR, Action.READ, contact(care(urgent=True, at=ENDS + timedelta(seconds=1)))),
    (DOCTOR, Action.READ, contact(care(urgent=True, doctor="doctor-2"))),
    (DOCTOR, Action.READ, contact(care(urgent=True), patient_id=None)),
    *(
        (DOCTOR, Action.READ, contact(care(status, urgent=True, at=ENDS - timedelta(minutes=5))))
        for status in AppointmentStatus
        if status is not AppointmentStatus.CONFIRMED
    ),
    *((DOCTOR, action, contact(care(urgent=True))) for action in ALL_ACTIONS if action is not Action.READ),
    *(
        (Actor("doctor-1", role), Action.READ, contact(care(urgent=True)))
        for role in ALL_ROLES
        if role is not Role.DOCTOR
    ),
]


@pytest.mark.parametrize(("actor", "action", "resource"), DENIED, ids=_id)
def test_denied(actor, action, resource) -> None:
    assert can(actor, action, resource) is False


def test_only_admins_may_verify_the_audit_log() -> None:
    verifiers = {
        role for role in ALL_ROLES if can(Actor("someone", role), Action.VERIFY_AUDIT, Resource("audit_log"))
    }
    assert verifiers == {Role.ADMIN}


def test_with_a_live_appointment_only_its_doctor_and_the_patient_may_read() -> None:
    readers = {
        (role, user_id)
        for role in ALL_ROLES
        for user_id in (PATIENT_ID, OTHER_ID, "doctor-1", "doctor-2", "admin-1")
        if can(Actor(user_id, role), Action.READ, seen_by_doctor(care()))
    }
    assert readers == {(Role.PATIENT, PATIENT_ID), (Role.DOCTOR, "doctor-1")}


def test_only_the_patient_themself_may_read_a_profile() -> None:
    readers = {
        (role, user_id)
        for role in ALL_ROLES
        for user_id in (PATIENT_ID, OTHER_ID, "admin-1")
        if can(Actor(user_id, role), Action.READ, Resource("patient_profile", PATIENT_ID))
    }
    assert readers == {(Role.PATIENT, PATIENT_ID)}


def test_a_patients_red_flags_are_read_by_their_doctor_exactly_as_their_profile() -> None:
    """The same rule as the summary's, for every status, moment, doctor and role; never anyone's
    own flags without an appointment, and never a change."""
    links = [
        care(status, at=at, doctor=doctor)
        for status in AppointmentStatus
        for at in (ENDS - timedelta(days=1), ENDS + timedelta(hours=23), ENDS + timedelta(hours=25))
        for doctor in ("doctor-1", "doctor-2")
    ]
    for link, role, action in itertools.product([*links, None], ALL_ROLES, ALL_ACTIONS):
        actor = Actor("doctor-1" if role is Role.DOCTOR else PATIENT_ID, role)
        as_profile = role is Role.DOCTOR and can(actor, action, seen_by_doctor(link))
        assert can(actor, action, Resource("red_flags", PATIENT_ID, care=link)) is as_profile, (
            link,
            role,
            action,
        )
