"""A doctor named in a platform message is named in the recipient's language: "Reg. No." is not
left in English in a Hindi message (issue 14, "Hindi mode is Hindi throughout")."""

from types import SimpleNamespace

from backend.appointments.notices import doctor_label
from notifications import templates

DOCTOR = SimpleNamespace(
    full_name="Meera Rao",
    qualification="MBBS, MD",
    registration_number="DMC-77120",
    council="Delhi Medical Council",
)
STARTS = "2026-11-30T04:30:00+00:00"


def confirmed(locale: str) -> str:
    params = {"doctor": doctor_label(DOCTOR), "starts_at": STARTS}
    return templates.render("appointment_confirmed_patient_now", params, locale, "Asia/Kolkata").text


def test_a_hindi_confirmation_names_the_doctors_registration_in_hindi():
    text = confirmed("hi")
    assert "डॉ. Meera Rao (MBBS, MD; पंजीकरण सं. DMC-77120, Delhi Medical Council)" in text
    assert "Reg. No." not in text


def test_an_english_confirmation_keeps_reg_no():
    assert "Dr Meera Rao (MBBS, MD; Reg. No. DMC-77120, Delhi Medical Council)" in confirmed("en")


def test_a_whatsapp_template_variable_holds_the_named_doctor_not_its_parts():
    params = {"doctor": doctor_label(DOCTOR), "contact": "+91 ••••• •1234"}
    variables = templates.render("urgent_accepted", params, "hi", "Asia/Kolkata").variables
    assert variables["1"].startswith("डॉ. Meera Rao (")


def test_the_kind_of_doctor_in_an_urgent_message_is_named_in_the_recipients_language():
    params = {"specialty": "Cardiology", "position": 2}
    assert "तुरंत हृदय रोग परामर्श" in templates.render("urgent_waiting", params, "hi", "Asia/Kolkata").text
    assert (
        "urgent Cardiology consult" in templates.render("urgent_waiting", params, "en", "Asia/Kolkata").text
    )
    unknown = {"specialty": "Sports Medicine", "position": 2}  # no Hindi name: as stored
    assert "Sports Medicine" in templates.render("urgent_waiting", unknown, "hi", "Asia/Kolkata").text
