"""Every flow by name, and where a chat goes "home" to."""

from __future__ import annotations

from backend.models import User
from conversations.flow import Flow
from conversations.flows import (
    applications,
    appointments,
    availability,
    booking,
    doctor_onboarding,
    earnings,
    find_doctor,
    menu,
    notifications,
    profile,
    provider_onboarding,
    signup,
    urgent,
)

_FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (
        signup.FLOW,
        menu.FLOW,
        profile.FLOW,
        notifications.FLOW,
        doctor_onboarding.FLOW,
        provider_onboarding.FLOW,
        applications.FLOW,
        availability.FLOW,
        find_doctor.FLOW,
        booking.FLOW,
        appointments.FLOW,
        urgent.FLOW,
        earnings.FLOW,
    )
}


def register(flow: Flow) -> None:
    _FLOWS[flow.name] = flow


def unregister(name: str) -> None:
    _FLOWS.pop(name, None)


def find(name: str) -> Flow | None:
    return _FLOWS.get(name)


def get(name: str) -> Flow:
    return _FLOWS[name]


def home(user: User | None) -> Flow:
    return _FLOWS["menu"] if user is not None else _FLOWS["signup"]
