"""Demo data: verified doctors with weekly hours (some with a lunch break, some on call or
accepting automatically) and two weeks of slots, pharmacies with stock, labs with test
catalogues, an admin and a demo patient. Idempotent: every row is found by its natural key
first, so running it again adds only what is missing (e.g. slots for new days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.accounts import service as accounts
from backend.crypto import FieldCipher
from backend.models import (
    AvailabilityRule,
    Doctor,
    Lab,
    LabTest,
    Pharmacy,
    Role,
    Specialty,
    StockItem,
    User,
    VerificationStatus,
    new_id,
    utcnow,
)
from backend.scheduling import service as scheduling

DEMO_DOMAIN = "demo.telecare.example"
SLOT_HORIZON_DAYS = 14


@dataclass(frozen=True)
class DemoDoctor:
    key: str
    name: str
    qualification: str
    council: str
    registration: str
    specialties: tuple[str, ...]
    languages: tuple[str, ...]
    fee_rupees: int
    bio: str
    hours: tuple[tuple[int, str, str], ...]  # (weekday, start, end) in Asia/Kolkata
    breaks: tuple[tuple[str, str], ...] = ()  # daily (start, end), cut out of the hours
    on_call: bool = False  # takes urgent consults
    auto_accept: bool = False  # paid requests are accepted without waiting for a tap


_WEEKDAYS_9_TO_1 = tuple((d, "09:00", "13:00") for d in range(5))
_WEEKDAYS_EVENINGS = tuple((d, "17:00", "20:00") for d in range(5))
_SIX_DAYS = tuple((d, "10:00", "14:00") for d in range(6))
_WEEKDAYS_FULL = tuple((d, "09:00", "17:00") for d in range(5))
_LUNCH = (("13:00", "14:00"),)

DOCTORS: tuple[DemoDoctor, ...] = (
    DemoDoctor(
        "dr-ananya-rao",
        "Ananya Rao",
        "MBBS, MD (General Medicine)",
        "Karnataka Medical Council",
        "KMC-48213",
        ("General Physician",),
        ("English", "Hindi", "Kannada"),
        400,
        "Adult medicine, fevers, diabetes and blood pressure follow-ups.",
        _WEEKDAYS_FULL,
        breaks=_LUNCH,
        on_call=True,
    ),
    DemoDoctor(
        "dr-vikram-singh",
        "Vikram Singh",
        "MBBS",
        "Delhi Medical Council",
        "DMC-77120",
        ("General Physician",),
        ("Hindi", "English", "Punjabi"),
        300,
        "Family doctor for common illnesses and preventive care.",
        _WEEKDAYS_EVENINGS,
        on_call=True,
        auto_accept=True,
    ),
    DemoDoctor(
        "dr-meera-iyer",
        "Meera Iyer",
        "MBBS, MD (Paediatrics)",
        "Tamil Nadu Medical Council",
        "TNMC-90311",
        ("Paediatrics",),
        ("English", "Tamil", "Hindi"),
        500,
        "Children's health from newborns to teenagers; vaccinations and growth.",
        _SIX_DAYS,
        on_call=True,
    ),
    DemoDoctor(
        "dr-arjun-mehta",
        "Arjun Mehta",
        "MBBS, DCH",
        "Maharashtra Medical Council",
        "MMC-2019-5521",
        ("Paediatrics",),
        ("Hindi", "Marathi", "English"),
        450,
        "Childhood infections, nutrition and development.",
        _WEEKDAYS_EVENINGS,
    ),
    DemoDoctor(
        "dr-kavita-nair",
        "Kavita Nair",
        "MBBS, MD (Dermatology)",
        "Travancore-Cochin Medical Council",
        "TCMC-33472",
        ("Dermatology",),
        ("English", "Malayalam", "Hindi"),
        600,
        "Acne, eczema, hair loss and skin infections.",
        _WEEKDAYS_9_TO_1,
    ),
    DemoDoctor(
        "dr-rohit-bansal",
        "Rohit Bansal",
        "MBBS, DDVL",
        "Punjab Medical Council",
        "PMC-41987",
        ("Dermatology",),
        ("Hindi", "Punjabi", "English"),
        550,
        "Skin, hair and nail problems; allergies of the skin.",
        _SIX_DAYS,
        auto_accept=True,
    ),
    DemoDoctor(
        "dr-sunita-reddy",
        "Sunita Reddy",
        "MBBS, MS (Obstetrics & Gynaecology)",
        "Telangana State Medical Council",
        "TSMC-15806",
        ("Gynaecology",),
        ("Telugu", "English", "Hindi"),
        700,
        "Pregnancy care, menstrual problems, PCOS and menopause.",
        _WEEKDAYS_9_TO_1,
    ),
    DemoDoctor(
        "dr-farah-khan",
        "Farah Khan",
        "MBBS, DGO",
        "Uttar Pradesh Medical Council",
        "UPMC-62044",
        ("Gynaecology",),
        ("Hindi", "Urdu", "English"),
        600,
        "Women's health, family planning and antenatal follow-ups.",
        _WEEKDAYS_EVENINGS,
    ),
    DemoDoctor(
        "dr-sanjay-gupta",
        "Sanjay Gupta",
        "MBBS, MD (Psychiatry)",
        "Madhya Pradesh Medical Council",
        "MPMC-27391",
        ("Psychiatry",),
        ("Hindi", "English"),
        800,
        "Anxiety, depression, sleep problems and stress.",
        _SIX_DAYS,
    ),
    DemoDoctor(
        "dr-priya-das",
        "Priya Das",
        "MBBS, MD (Psychiatry)",
        "West Bengal Medical Council",
        "WBMC-70562",
        ("Psychiatry",),
        ("Bengali", "English", "Hindi"),
        750,
        "Mood disorders and counselling for young adults.",
        _WEEKDAYS_EVENINGS,
    ),
    DemoDoctor(
        "dr-naveen-kumar",
        "Naveen Kumar",
        "MBBS, MD (Medicine), DM (Cardiology)",
        "Andhra Pradesh Medical Council",
        "APMC-58120",
        ("Cardiology",),
        ("Telugu", "English", "Hindi"),
        1000,
        "Blood pressure, cholesterol, palpitations and heart-failure follow-ups.",
        _WEEKDAYS_FULL,
        breaks=_LUNCH,
        on_call=True,
    ),
    DemoDoctor(
        "dr-aisha-siddiqui",
        "Aisha Siddiqui",
        "MBBS, MD (Medicine), DM (Endocrinology)",
        "Gujarat Medical Council",
        "GMC-39904",
        ("Endocrinology", "General Physician"),
        ("Hindi", "Gujarati", "English"),
        900,
        "Diabetes, thyroid and hormone disorders.",
        _SIX_DAYS,
    ),
)

PHARMACIES = (
    ("pharmacy-sanjeevani", "Sanjeevani Pharmacy", "Bengaluru", "KA-BLR-20B-11842"),
    ("pharmacy-lifeline", "Lifeline Medicos", "New Delhi", "DL-SDL-21B-50917"),
)
STOCK = (
    ("Paracetamol", "500 mg", "tablet", 400, 2_00),
    ("Amoxicillin", "500 mg", "capsule", 120, 9_50),
    ("Metformin", "500 mg", "tablet", 300, 3_00),
    ("Atorvastatin", "10 mg", "tablet", 150, 7_50),
    ("Cetirizine", "10 mg", "tablet", 250, 1_80),
    ("ORS", "21 g", "sachet", 90, 20_00),
    ("Salbutamol inhaler", "100 mcg", "inhaler", 12, 145_00),
    ("Amlodipine", "5 mg", "tablet", 200, 2_50),
)
LABS = (
    ("lab-accucheck", "AccuCheck Diagnostics", "Bengaluru", "NABL MC-4421"),
    ("lab-pathcare", "PathCare Labs", "New Delhi", "NABL MC-5187"),
)
LAB_TESTS = (
    ("CBC", "Complete blood count", 350_00, 12, False),
    ("FBS", "Fasting blood sugar", 120_00, 6, True),
    ("HBA1C", "HbA1c (3-month sugar)", 550_00, 24, False),
    ("LIPID", "Lipid profile", 650_00, 24, True),
    ("TSH", "Thyroid stimulating hormone", 400_00, 24, False),
    ("LFT", "Liver function test", 700_00, 24, False),
    ("KFT", "Kidney function test", 700_00, 24, False),
    ("URINE", "Urine routine", 150_00, 8, False),
)


def demo_email(key: str) -> str:
    return f"{key}@{DEMO_DOMAIN}"


@dataclass
class Counts:
    users: int = 0
    doctors: int = 0
    slots: int = 0
    pharmacies: int = 0
    labs: int = 0

    def __str__(self) -> str:
        return (
            f"added {self.users} users, {self.doctors} doctors, {self.slots} slots, "
            f"{self.pharmacies} pharmacies, {self.labs} labs"
        )


async def _user(session, cipher, counts, key: str, role: Role, display_name: str) -> User:
    user = await accounts.find_user_by_contact(session, cipher, "email", demo_email(key))
    if user is None:
        user = User(id=new_id(), role=role, display_name=display_name, timezone="Asia/Kolkata")
        accounts.set_contact(cipher, user, "email", demo_email(key))
        session.add(user)
        await session.flush()
        counts.users += 1
    return user


async def _specialty(session: AsyncSession, name: str) -> Specialty:
    found = await session.scalar(select(Specialty).where(Specialty.name == name))
    if found is None:
        found = Specialty(id=new_id(), name=name)
        session.add(found)
        await session.flush()
    return found


async def _doctor(session, cipher, counts, spec: DemoDoctor) -> Doctor:
    council, number = spec.council, spec.registration
    doctor = await session.scalar(
        select(Doctor).where(Doctor.council == council, Doctor.registration_number == number)
    )
    if doctor is None:
        user = await _user(session, cipher, counts, spec.key, Role.DOCTOR, f"Dr {spec.name}")
        doctor = Doctor(
            id=new_id(),
            user_id=user.id,
            full_name=spec.name,
            qualification=spec.qualification,
            council=council,
            registration_number=number,
            languages=list(spec.languages),
            fee_minor=spec.fee_rupees * 100,
            bio=spec.bio,
            timezone="Asia/Kolkata",
            slot_minutes=15,
            on_call=spec.on_call,
            auto_accept=spec.auto_accept,
            status=VerificationStatus.VERIFIED,
            verified_by="demo-data",
            verified_at=utcnow(),
            specialties=[await _specialty(session, s) for s in spec.specialties],
        )
        session.add(doctor)
        await session.flush()  # the rules reference the doctor row
        for weekday, start, end in spec.hours:
            session.add(
                AvailabilityRule(
                    doctor_id=doctor.id,
                    weekday=weekday,
                    start_time=time.fromisoformat(start),
                    end_time=time.fromisoformat(end),
                )
            )
        for weekday in {weekday for weekday, _, _ in spec.hours}:
            for start, end in spec.breaks:
                session.add(
                    AvailabilityRule(
                        doctor_id=doctor.id,
                        weekday=weekday,
                        start_time=time.fromisoformat(start),
                        end_time=time.fromisoformat(end),
                        kind="break",
                    )
                )
        await session.flush()
        counts.doctors += 1
    return doctor


async def _pharmacies(session, cipher, counts) -> None:
    for key, name, city, licence in PHARMACIES:
        if await session.scalar(select(Pharmacy).where(Pharmacy.name == name)):
            continue
        user = await _user(session, cipher, counts, key, Role.PHARMACY, name)
        pharmacy = Pharmacy(
            id=new_id(),
            user_id=user.id,
            name=name,
            city=city,
            licence_number=licence,
            status=VerificationStatus.VERIFIED,
        )
        session.add(pharmacy)
        await session.flush()
        for medicine, strength, form, quantity, price in STOCK:
            session.add(
                StockItem(
                    pharmacy_id=pharmacy.id,
                    medicine=medicine,
                    strength=strength,
                    form=form,
                    quantity=quantity,
                    price_minor=price,
                )
            )
        counts.pharmacies += 1


async def _labs(session, cipher, counts) -> None:
    for key, name, city, accreditation in LABS:
        if await session.scalar(select(Lab).where(Lab.name == name)):
            continue
        user = await _user(session, cipher, counts, key, Role.LAB, name)
        lab = Lab(
            id=new_id(),
            user_id=user.id,
            name=name,
            city=city,
            accreditation=accreditation,
            status=VerificationStatus.VERIFIED,
        )
        session.add(lab)
        await session.flush()
        for code, test_name, price, hours, fasting in LAB_TESTS:
            session.add(
                LabTest(
                    lab_id=lab.id,
                    code=code,
                    name=test_name,
                    price_minor=price,
                    turnaround_hours=hours,
                    fasting_required=fasting,
                )
            )
        counts.labs += 1


async def _demo_patient(session, cipher, counts) -> None:
    if await accounts.find_user_by_contact(session, cipher, "email", demo_email("patient")):
        return
    patient = await accounts.create_patient(
        session,
        cipher,
        accounts.NewPatient(
            full_name="Asha Verma",
            birth_date=date(1988, 6, 14),
            sex="female",
            contact_kind="email",
            contact=demo_email("patient"),
            locale="en",
            timezone="Asia/Kolkata",
            consent_version="demo",
            consent_at=utcnow(),
            channel="web",
        ),
    )
    patient.display_name = "Demo patient"  # a label for the persona picker, not the patient's name
    counts.users += 1


async def load(
    session: AsyncSession,
    cipher: FieldCipher,
    now: datetime | None = None,
    *,
    horizon_days: int = SLOT_HORIZON_DAYS,
) -> Counts:
    now = now or utcnow()
    counts = Counts()
    await _user(session, cipher, counts, "admin", Role.ADMIN, "Demo admin")
    for spec in DOCTORS:
        doctor = await _doctor(session, cipher, counts, spec)
        # The same generator the doctors' own changes and the sweeper use.
        counts.slots += await scheduling.generate_slots(session, doctor, now=now, horizon_days=horizon_days)
    await _pharmacies(session, cipher, counts)
    await _labs(session, cipher, counts)
    await _demo_patient(session, cipher, counts)
    return counts


PERSONAS: dict[str, str] = {
    "patient": "patient",
    "doctor": DOCTORS[0].key,
    "pharmacy": PHARMACIES[0][0],
    "lab": LABS[0][0],
    "admin": "admin",
}
