"""All models, imported here so that Alembic and `Base.metadata` see every table."""

from backend.models.admin import AdminToken
from backend.models.appointments import LIVE_STATUSES, Appointment, AppointmentKind, AppointmentStatus
from backend.models.audit import AuditEntry
from backend.models.base import Base, new_id, utcnow
from backend.models.conversations import Conversation, InboxMessage, WebChatMessage
from backend.models.directory import (
    AvailabilityException,
    AvailabilityRule,
    Doctor,
    Lab,
    LabTest,
    Pharmacy,
    ProviderDocument,
    Slot,
    Specialty,
    StockItem,
    VerificationStatus,
)
from backend.models.files import FileGrant
from backend.models.otp import OtpChallenge, OtpContactLock
from backend.models.outbound import STATUS_RANK, OutboundMessage
from backend.models.outbox import NotificationAction, NotificationPreference, OutboxMessage, OutboxStatus
from backend.models.payments import LedgerEntry, Payment, PaymentEvent, PaymentStatus, Payout, Refund
from backend.models.records import PROFILE_LISTS, PatientProfile
from backend.models.safety import RedFlag, RedFlagMiss
from backend.models.stored_files import StoredFile
from backend.models.users import Channel, ChannelIdentity, Consent, Role, User

__all__ = [
    "LIVE_STATUSES",
    "PROFILE_LISTS",
    "STATUS_RANK",
    "AdminToken",
    "Appointment",
    "AppointmentKind",
    "AppointmentStatus",
    "AuditEntry",
    "AvailabilityException",
    "AvailabilityRule",
    "Base",
    "Channel",
    "ChannelIdentity",
    "Consent",
    "Conversation",
    "Doctor",
    "FileGrant",
    "InboxMessage",
    "Lab",
    "LabTest",
    "LedgerEntry",
    "NotificationAction",
    "NotificationPreference",
    "OtpChallenge",
    "OtpContactLock",
    "OutboundMessage",
    "OutboxMessage",
    "OutboxStatus",
    "PatientProfile",
    "Payment",
    "PaymentEvent",
    "PaymentStatus",
    "Payout",
    "Pharmacy",
    "ProviderDocument",
    "RedFlag",
    "RedFlagMiss",
    "Refund",
    "Role",
    "Slot",
    "Specialty",
    "StockItem",
    "StoredFile",
    "User",
    "VerificationStatus",
    "WebChatMessage",
    "new_id",
    "utcnow",
]
