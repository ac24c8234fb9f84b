"""Every flow by name, and where a chat goes "home" to."""

from __future__ import annotations

from backend.models import User
from conversations.flow import Flow
from conversations.flows import menu, notifications, profile, signup

_FLOWS: dict[str, Flow] = {f.name: f for f in (signup.FLOW, menu.FLOW, profile.FLOW, notifications.FLOW)}


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
