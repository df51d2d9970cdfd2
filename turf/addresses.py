"""Address normalisation: the offline geocoder's key.

A door and a voter-file row match when their keys are equal. The key is
`"NUMBER|STREET|UNIT"`, each part normalised the same way on both sides:

- case and punctuation are ignored ("14 Aberdeen Ave." == "14 ABERDEEN AVE");
- street-type words are reduced to the USPS-style abbreviation the City of Cambridge uses
  (Street/St, Avenue/Ave, Road/Rd, Place/Pl, Terrace/Ter, Square/Sq, Park/Pk, Drive/Dr, Court/Ct,
  Lane/Ln, Circle/Cir, Parkway/Pkwy, ...), wherever they appear in the name;
- directions are abbreviated (North/N, South/S, ...); Mount/Mt and Saint/St likewise;
- ordinal street names are written as numbers (First/1st, Second/2nd, ... Tenth/10th);
- a house number loses spaces and the hyphen before a letter ("7-A" == "7A");
- a unit loses its designator ("Apt 2", "#2", "Unit 2", "Apartment 2", "Ste 2" are all "2")
  and leading zeros ("02" == "2").

Every token is mapped (not only the last one), so both sides of a match are always reduced the
same way; the price is that "Park Ave" and "Pk Ave" are the same street, which is what we want.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STREET_WORDS: dict[str, str] = {
    "STREET": "ST",
    "STR": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "ROAD": "RD",
    "PLACE": "PL",
    "TERRACE": "TER",
    "TERR": "TER",
    "SQUARE": "SQ",
    "PARK": "PK",
    "DRIVE": "DR",
    "COURT": "CT",
    "LANE": "LN",
    "CIRCLE": "CIR",
    "PARKWAY": "PKWY",
    "HIGHWAY": "HWY",
    "BOULEVARD": "BLVD",
    "LANDING": "LNDG",
    "EXTENSION": "EXT",
    "TURNPIKE": "TPKE",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "MOUNT": "MT",
    "SAINT": "ST",
    "FIRST": "1ST",
    "SECOND": "2ND",
    "THIRD": "3RD",
    "FOURTH": "4TH",
    "FIFTH": "5TH",
    "SIXTH": "6TH",
    "SEVENTH": "7TH",
    "EIGHTH": "8TH",
    "NINTH": "9TH",
    "TENTH": "10TH",
}

_PUNCT = re.compile(r"[^\w\s/#-]")
_SPACES = re.compile(r"\s+")
_UNIT_DESIGNATOR = re.compile(r"^(?:APARTMENT|APT|UNIT|STE|SUITE|NO|NUM|RM|ROOM|#)+\s*", re.I)
# "... Apt 3", "... #3", "... Unit 3B", "..., Apartment 12" at the end of an address line.
_UNIT_SUFFIX = re.compile(
    r"(?:\s|,)(?:(?:APARTMENT|APT|UNIT|STE|SUITE|RM|ROOM|NO)\.?\s*#?\s*|#\s*)([A-Z0-9][A-Z0-9/-]*)\s*$",
    re.I,
)
_FRACTION = re.compile(r"^(\d+)[\s-]*(\d+/\d+)$")
# A house number: digits, an optional letter, then hyphenated parts ("7-A", "6-1/2", "20-1B",
# "58-H2", "157-1/2B" all occur in Cambridge) or a separate fraction ("6 1/2").
_NUMBER_PREFIX = re.compile(r"^\s*(\d+[A-Z]?(?:-[0-9A-Z/]+)*(?:\s+\d+/\d+)?)\s+(.+)$", re.I)


def normalize_number(value: str) -> str:
    text = (value or "").upper().strip()
    text = _FRACTION.sub(r"\1-\2", text)  # "6 1/2" == "6-1/2"
    text = _SPACES.sub("", text)
    text = re.sub(r"-(?=[A-Z])", "", text)
    return text.lstrip("0") or ("0" if text else "")


def normalize_street(value: str) -> str:
    text = _PUNCT.sub(" ", (value or "").upper().replace(".", ""))
    tokens = [STREET_WORDS.get(t, t) for t in _SPACES.split(text.strip()) if t]
    return " ".join(tokens)


def normalize_unit(value: str) -> str:
    text = (value or "").upper().strip().replace(".", "")
    text = _UNIT_DESIGNATOR.sub("", text)
    text = _SPACES.sub("", text).lstrip("#")
    return text.lstrip("0") or ("0" if text else "")


def address_key(number: str, street: str, unit: str = "") -> str:
    """The door key: `NUMBER|STREET|UNIT`, normalised (see the module docstring)."""
    return f"{normalize_number(number)}|{normalize_street(street)}|{normalize_unit(unit)}"


def building_address_key(key: str) -> str:
    """The key without its unit: every door of one building address shares it."""
    number, street, _unit = key.split("|", 2)
    return f"{number}|{street}|"


@dataclass(frozen=True)
class ParsedAddress:
    number: str
    street: str
    unit: str


def parse_address_line(line: str) -> ParsedAddress | None:
    """Split a one-line street address ("14 Aberdeen Ave Apt 3") into its parts.

    Returns None when the line does not start with a house number (then it cannot be matched
    offline and is reported as unmatched).
    """
    text = _SPACES.sub(" ", (line or "").replace(",", " ").strip())
    unit = ""
    found = _UNIT_SUFFIX.search(text)
    if found:
        unit = found.group(1)
        text = text[: found.start()].strip()
    m = _NUMBER_PREFIX.match(text)
    if not m:
        return None
    return ParsedAddress(number=m.group(1), street=m.group(2), unit=unit)
