from __future__ import annotations

import pytest

from turf.addresses import address_key, parse_address_line


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("14 Aberdeen Ave", "14|ABERDEEN AVE|"),
        ("14 ABERDEEN AVENUE", "14|ABERDEEN AVE|"),
        ("14 aberdeen ave.", "14|ABERDEEN AVE|"),
        ("14 Aberdeen Ave Apt 2", "14|ABERDEEN AVE|2"),
        ("14 Aberdeen Ave #2", "14|ABERDEEN AVE|2"),
        ("14 Aberdeen Ave, Unit 02", "14|ABERDEEN AVE|2"),
        ("3 First Street", "3|1ST ST|"),
        ("3 1st St", "3|1ST ST|"),
        ("7-A Mt Auburn St", "7A|MT AUBURN ST|"),
        ("7A Mount Auburn Street", "7A|MT AUBURN ST|"),
        ("6 1/2 Oak Road", "6-1/2|OAK RD|"),
        ("12 North Pk", "12|N PK|"),
        ("12 N Park", "12|N PK|"),
        ("5 Fayette Sq", "5|FAYETTE SQ|"),
        ("5 Fayette Square", "5|FAYETTE SQ|"),
        ("9 Fresh Pond Pl", "9|FRESH POND PL|"),
        ("9 Fresh Pond Place", "9|FRESH POND PL|"),
        ("2 Dana Ter", "2|DANA TER|"),
        ("2 Dana Terrace", "2|DANA TER|"),
        ("8 Memorial Drive", "8|MEMORIAL DR|"),
        ("20-1B Prescott St #9", "20-1B|PRESCOTT ST|9"),
        ("58-H2 Garden Street", "58H2|GARDEN ST|"),
    ],
)
def test_it_normalises_address_variants_to_one_key(line, key):
    parsed = parse_address_line(line)

    assert parsed is not None
    assert address_key(parsed.number, parsed.street, parsed.unit) == key


def test_it_gives_no_address_for_a_line_without_a_house_number():
    assert parse_address_line("PO Box 12") is None
