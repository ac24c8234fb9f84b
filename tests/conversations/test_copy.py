"""Catalogue consistency: every language has every English key, with the same placeholders, and
command words never clash across commands or languages."""

from __future__ import annotations

import re
import string

import pytest

from conversations import copy

ENGLISH = copy.CATALOGUES[copy.DEFAULT_LOCALE]
OTHERS = sorted(locale for locale in copy.CATALOGUES if locale != copy.DEFAULT_LOCALE)
DEVANAGARI = re.compile(r"[\u0900-\u097F]")
ASCII_LETTER = re.compile(r"[A-Za-z]")


def placeholders(template: str) -> set[str]:
    """The field names a template uses (`{name}`, `{a.b}` → `a`, `{x[0]}` → `x`)."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(template):
        if field is not None:
            names.add(re.split(r"[.\[]", field, maxsplit=1)[0])
    return names


def literal_text(template: str) -> str:
    """The template without its placeholders: the words a translator has to write."""
    return "".join(literal for literal, *_ in string.Formatter().parse(template))


@pytest.mark.parametrize("locale", sorted(copy.CATALOGUES))
def test_every_catalogue_has_exactly_the_english_keys(locale: str) -> None:
    keys = set(copy.CATALOGUES[locale])
    missing = sorted(set(ENGLISH) - keys)
    extra = sorted(keys - set(ENGLISH))
    assert not missing and not extra, f"{locale}: missing keys {missing}, extra keys {extra}"


@pytest.mark.parametrize("locale", OTHERS)
def test_translations_use_the_english_placeholders(locale: str) -> None:
    catalogue = copy.CATALOGUES[locale]
    wrong = {
        key: {"en": sorted(placeholders(ENGLISH[key])), locale: sorted(placeholders(catalogue[key]))}
        for key in sorted(ENGLISH.keys() & catalogue.keys())
        if placeholders(ENGLISH[key]) != placeholders(catalogue[key])
    }
    assert not wrong, f"{locale}: placeholders differ from English: {wrong}"


@pytest.mark.parametrize("locale", sorted(copy.CATALOGUES))
def test_every_template_formats(locale: str) -> None:
    failures = {}
    for key, template in copy.CATALOGUES[locale].items():
        try:
            template.format(**{name: f"<{name}>" for name in placeholders(template)})
        except (KeyError, IndexError, ValueError, AttributeError) as error:
            failures[key] = repr(error)
    assert not failures, f"{locale}: templates that do not format: {failures}"


@pytest.mark.parametrize("locale", sorted(copy.CATALOGUES))
def test_no_translation_is_empty(locale: str) -> None:
    empty = sorted(key for key, value in copy.CATALOGUES[locale].items() if not value.strip())
    assert not empty, f"{locale}: empty messages {empty}"


@pytest.mark.parametrize("locale", OTHERS)
def test_translations_are_not_english_copies(locale: str) -> None:
    catalogue = copy.CATALOGUES[locale]
    # Only keys with English words to translate: not "{city}", "{field}:\n{items}" or emoji-only text.
    wordy = [
        key
        for key, value in ENGLISH.items()
        if key != "tz_label" and ASCII_LETTER.search(literal_text(value)) and key in catalogue
    ]
    same = sorted(key for key in wordy if catalogue[key] == ENGLISH[key])
    assert len(same) <= 0.1 * len(wordy), (
        f"{locale}: {len(same)}/{len(wordy)} messages left in English: {same}"
    )


def test_command_words_are_unique_across_commands_and_languages() -> None:
    owner: dict[str, str] = {}
    clashes = []
    for locale, catalogue in sorted(copy.CATALOGUES.items()):
        for key in sorted(k for k in catalogue if k.startswith("cmd_")):
            for word in catalogue[key].split("|"):
                normal = word.strip().casefold()
                assert normal, f"{locale}.{key} has an empty alternative: {catalogue[key]!r}"
                where = f"{locale}.{key}"
                if normal in owner:
                    clashes.append(f"{normal!r} in {owner[normal]} and {where}")
                else:
                    owner[normal] = where
    assert not clashes, "command words used more than once: " + "; ".join(clashes)


def test_translate_uses_the_locale_and_falls_back_to_english() -> None:
    hindi = copy.translate("hi", "welcome")
    assert DEVANAGARI.search(hindi), hindi
    assert copy.translate("xx", "welcome") == ENGLISH["welcome"]
    assert copy.translate("xx", "signup_done", name="Asha") == ENGLISH["signup_done"].format(name="Asha")
