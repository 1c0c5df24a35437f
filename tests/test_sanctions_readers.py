"""Sanctions list readers on the real lists in ../shared/data/sanctions and on fixtures the
tests write in each list's published shape (EU, OpenSanctions: no real copy is held)."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date

import pandas as pd
import pytest

from tracker.core.errors import InputError
from tracker.core.identifiers import imo_is_valid
from tracker.sources.sanctions import read_list
from tracker.sources.sanctions.eu import read_eu
from tracker.sources.sanctions.ofac import read_ofac
from tracker.sources.sanctions.opensanctions import read_opensanctions
from tracker.sources.sanctions.remarks import imos_in
from tracker.sources.sanctions.uk import read_uk
from tracker.sources.sanctions.un import read_un
from tracker.sources.sanctions.watchlist import read_watchlist

OFAC_2021 = "sanctions/ofac/2021-07-07_watchman_bench/sdn.csv.gz"
OFAC_FIXTURE = "sanctions/ofac/2025-05-16_watchman_ofactest_fixture"


def test_ofac_2021_reads_406_vessels_with_every_remarks_imo_and_mmsi(shared_file):
    read = read_ofac(shared_file(OFAC_2021))
    entries = read.entries
    assert read.counts == {"rows": 8976, "records": 8976, "entries": 406}
    assert read.edition == date(2021, 7, 7)
    assert read.bad == []
    # every IMO / MMSI written in Remarks is extracted
    with_imo_text = entries["remarks"].fillna("").str.contains(r"\bIMO\s+\d", regex=True)
    assert with_imo_text.sum() == entries["imo"].notna().sum() == 400
    with_mmsi_text = entries["remarks"].fillna("").str.contains(r"\bMMSI\s+\d", regex=True)
    assert with_mmsi_text.sum() == entries["mmsi"].notna().sum() == 51
    assert entries["mmsi"].dropna().map(lambda m: len(str(m)) == 9).all()
    # check digits hold wherever the list gives a 7-digit IMO; one row gives "IMO 15411"
    seven = entries[
        entries["imo"].notna() & entries["imo"].map(lambda i: pd.notna(i) and len(str(i)) == 7)
    ]
    assert seven["imo"].map(imo_is_valid).all() and len(seven) == 399
    bad = entries[entries["imo_valid"] == False]  # noqa: E712 - nullable boolean
    assert list(bad["name"]) == ["BONU 5"] and list(bad["imo"]) == [15411]
    # a row from the list, checked by hand against the file
    row = entries.set_index("entry_id").loc["4243"]
    assert (row["name"], row["callsign"], row["flag"], row["vessel_type"]) == (
        "SAND SWAN",
        "P3QG3",
        "CY",
        "General Cargo",
    )
    assert "ANA I" in row["aliases"]


def test_ofac_newer_identification_number_wording(shared_file):
    entries = read_ofac(shared_file(OFAC_FIXTURE)).entries.set_index("entry_id")
    assert len(entries) == 4
    ns = entries.loc["47371"]
    assert (ns["name"], ns["imo"], ns["mmsi"], ns["programme"], ns["flag"]) == (
        "NS LEADER",
        9339301,
        636013272,
        "RUSSIA-EO14024",
        "GA",
    )
    assert bool(ns["imo_valid"])


def test_ofac_folder_without_sdn_csv_is_a_clear_error(shared_file):
    folder = shared_file("sanctions/ofac/2025-12-24_watchman_tfidf")
    with pytest.raises(InputError, match="no sdn.csv"):
        read_list(folder, list="ofac")


def test_ofac_reader_keeps_bad_rows_aside(tmp_path):
    (tmp_path / "sdn.csv").write_text(
        '1,"GOOD SHIP","vessel","RUSSIA-EO14024",-0- ,"ABCD1","Cargo",-0- ,-0- ,"Russia",-0- ,"Identification Number IMO 9999993."\n'
        '2,"TOO SHORT"\n'
        "garbage line\n"
    )
    read = read_ofac(tmp_path / "sdn.csv", edition=date(2025, 1, 1))
    assert list(read.entries["name"]) == ["GOOD SHIP"]
    assert [(b.line, b.reason.split(",")[0]) for b in read.bad] == [
        (2, "expected 12 fields starting with an entity number"),
        (3, "expected 12 fields starting with an entity number"),
    ]


def test_uk_csv_and_ods_agree_on_461_ships(shared_file):
    csv_read = read_uk(shared_file("sanctions/uk/uk_sanctions_list_2025-08-11_ships.csv"))
    ods_read = read_uk(shared_file("sanctions/uk/FCDO_SL_Mon_Aug_11_2025.ods"))
    assert csv_read.counts == {"rows": 461, "records": 461, "entries": 461}
    assert ods_read.counts == {"rows": 5302, "records": 5300, "entries": 461}  # 2 bad rows
    assert csv_read.edition == ods_read.edition == date(2025, 8, 11)
    assert csv_read.entries["programme"].value_counts().to_dict() == {
        "Russia": 424,
        "Democratic People's Republic of Korea": 37,
    }
    assert set(csv_read.entries["entry_id"]) == set(ods_read.entries["entry_id"])
    lady = csv_read.entries.set_index("entry_id").loc["RUS2185"]
    assert (lady["name"], lady["listed_on"]) == ("LADY R", date(2024, 7, 31))
    assert csv_read.entries["imo"].isna().all()  # this copy has no IMO column
    # two designations in the ODS have an empty Name: reported with their line, not stored
    assert [(b.line, b.reason) for b in ods_read.bad] == [
        (649, "row without Unique ID or Name"),
        (3524, "row without Unique ID or Name"),
    ]


def test_uk_full_form_groups_alias_rows_and_reads_imo(tmp_path):
    path = tmp_path / "UK-Sanctions-List.csv"
    path.write_text(
        "Report Date: 24-Nov-2026\n"
        "Last Updated,Unique ID,OFSI Group ID,Name 6,Name type,Regime Name,Designation Type,Date Designated,IMO number,Current believed flag of ship,Type of ship\n"
        "01/01/2025,RUS9001,1,FICTITIOUS CARGO,Primary Name,Russia,Ship,01/02/2025,9999993,Russia,Cargo\n"
        "01/01/2025,RUS9001,1,FICTITIOUS CARGO II,Alias,Russia,Ship,01/02/2025,9999993,Russia,Cargo\n"
        "01/01/2025,RUS9002,2,SOMEONE,Primary Name,Russia,Individual,01/02/2025,,,\n"
    )
    entries = read_uk(path).entries
    assert len(entries) == 1
    row = entries.iloc[0]
    assert (row["name"], row["aliases"], row["imo"], row["flag"], row["listed_on"]) == (
        "FICTITIOUS CARGO",
        ["FICTITIOUS CARGO II"],
        9999993,
        "RU",
        date(2025, 2, 1),
    )


def test_un_list_counts_and_company_imo_numbers_are_not_ships(shared_file):
    path = shared_file("sanctions/un/UN_consolidated_2026-02-27.xml.gz")
    vessels = read_un(path)
    everything = read_un(path, vessels_only=False)
    assert vessels.counts == {"individuals": 730, "entities": 273, "records": 1003, "entries": 0}
    assert vessels.edition == date(2026, 2, 27)
    assert len(everything.entries) == 273
    # 15 DPRK shipping companies carry IMO *company* numbers, which fail the ship check digit
    company = everything.entries["remarks"].map(lambda r: bool(imos_in(r)))
    assert company.sum() == 15
    assert (everything.entries.loc[company, "kind"] == "entity").all()


UN_VESSEL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2025-06-01T00:00:00Z"><INDIVIDUALS/><ENTITIES>
<ENTITY><DATAID>1</DATAID><FIRST_NAME>FICTITIOUS TANKER</FIRST_NAME><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
<REFERENCE_NUMBER>KPe.900</REFERENCE_NUMBER><LISTED_ON>2018-03-30</LISTED_ON>
<COMMENTS1>Test vessel. IMO: 9999993. &lt;script&gt;alert(1)&lt;/script&gt;</COMMENTS1>
<ENTITY_ALIAS><QUALITY>f.k.a.</QUALITY><ALIAS_NAME>OLD FICTITIOUS NAME</ALIAS_NAME></ENTITY_ALIAS>
</ENTITY></ENTITIES></CONSOLIDATED_LIST>"""


def test_un_vessel_entity_in_published_shape(tmp_path):
    path = tmp_path / "un.xml"
    path.write_text(UN_VESSEL_XML)
    entries = read_un(path).entries
    row = entries.iloc[0]
    assert (row["entry_id"], row["imo"], row["listed_on"], row["programme"]) == (
        "KPe.900",
        9999993,
        date(2018, 3, 30),
        "DPRK",
    )
    assert row["aliases"] == ["OLD FICTITIOUS NAME"]
    assert "<script>" in row["remarks"]  # kept as inert text, escaped only at display


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<CONSOLIDATED_LIST><ENTITIES><ENTITY><FIRST_NAME>&lol3;</FIRST_NAME></ENTITY></ENTITIES></CONSOLIDATED_LIST>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<export><sanctionEntity logicalId="1"><nameAlias wholeName="&xxe;"/></sanctionEntity></export>"""


@pytest.mark.parametrize("reader,text", [(read_un, BILLION_LAUGHS), (read_eu, EXTERNAL_ENTITY)])
def test_entity_expansion_xml_is_refused(tmp_path, reader, text):
    path = tmp_path / "list.xml"
    path.write_text(text)
    with pytest.raises(InputError, match="refused unsafe XML"):
        reader(path)


def test_broken_xml_names_file_and_line(tmp_path):
    path = tmp_path / "un.xml"
    path.write_text("<CONSOLIDATED_LIST>\n<ENTITIES>\n<ENTITY>\n</CONSOLIDATED_LIST>")
    with pytest.raises(InputError, match=r"un.xml: line 4: not well-formed XML"):
        read_un(path)


EU_XML = """<?xml version="1.0" encoding="UTF-8"?>
<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2025-07-18T10:00:00.000+02:00">
<sanctionEntity designationDate="2025-05-20" logicalId="900001" euReferenceNumber="EU.9.1">
  <remark>Fictitious test vessel, IMO 9999993, MMSI 999000001</remark>
  <regulation programme="RUS"/>
  <subjectType classificationCode="enterprise"/>
  <nameAlias wholeName="FICTITIOUS CARRIER"/>
  <nameAlias wholeName="FICTITIOUS CARRIER ONE"/>
</sanctionEntity>
<sanctionEntity designationDate="2022-03-01" logicalId="900002">
  <regulation programme="RUS"/>
  <subjectType classificationCode="enterprise"/>
  <nameAlias wholeName="FICTITIOUS SHIPPING LLC"/>
  <identification identificationTypeCode="regnumber" number="123"/>
</sanctionEntity>
</export>"""


def test_eu_xml_and_csv_forms(tmp_path):
    xml = tmp_path / "eu.xml"
    xml.write_text(EU_XML)
    read = read_eu(xml)
    assert read.edition == date(2025, 7, 18)
    assert read.counts == {"entities": 2, "records": 2, "entries": 1}
    row = read.entries.iloc[0]
    assert (
        row["name"],
        row["aliases"],
        row["imo"],
        row["mmsi"],
        row["programme"],
        row["listed_on"],
    ) == (
        "FICTITIOUS CARRIER",
        ["FICTITIOUS CARRIER ONE"],
        9999993,
        999000001,
        "RUS",
        date(2025, 5, 20),
    )
    csv_path = tmp_path / "eu.csv.gz"
    with gzip.open(csv_path, "wt") as fh:
        fh.write(
            "fileGenerationDate;Entity_LogicalId;Entity_DesignationDate;Entity_Remark;Entity_Regulation_Programme;NameAlias_WholeName;Identification_TypeCode;Identification_Number\n"
            "2025-07-18;900001;2025-05-20;Fictitious test vessel;RUS;FICTITIOUS CARRIER;imo;9999993\n"
            "2025-07-18;900001;2025-05-20;Fictitious test vessel;RUS;FICTITIOUS CARRIER ONE;;\n"
            "2025-07-18;900002;2022-03-01;;RUS;FICTITIOUS SHIPPING LLC;regnumber;123\n"
            ";;;;;;;\n"
        )
    read = read_eu(csv_path)
    assert read.counts == {"entities": 2, "records": 2, "entries": 1}
    assert read.entries.iloc[0]["aliases"] == ["FICTITIOUS CARRIER ONE"]
    assert [b.line for b in read.bad] == [5]


def test_opensanctions_ftm_and_simple_csv(tmp_path):
    ftm = tmp_path / "entities.ftm.json"
    lines = [
        {
            "id": "os-vessel-1",
            "schema": "Vessel",
            "first_seen": "2024-02-24T00:00:00",
            "last_change": "2025-06-01T00:00:00",
            "properties": {
                "name": ["FICTITIOUS RO-RO"],
                "previousName": ["FICTITIOUS OLD"],
                "imoNumber": ["IMO9999993"],
                "mmsi": ["999000001"],
                "callSign": ["TEST1"],
                "flag": ["ru"],
                "type": ["Ro-Ro Cargo"],
                "programId": ["US-RUSSIA"],
            },
        },
        {"id": "os-company-1", "schema": "Company", "properties": {"name": ["FICTITIOUS LLC"]}},
    ]
    ftm.write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n")
    read = read_opensanctions(ftm)
    assert read.edition == date(2025, 6, 1)
    row = read.entries.iloc[0]
    assert (
        row["name"],
        row["imo"],
        row["mmsi"],
        row["callsign"],
        row["flag"],
        row["listed_on"],
    ) == ("FICTITIOUS RO-RO", 9999993, 999000001, "TEST1", "RU", date(2024, 2, 24))
    assert row["aliases"] == ["FICTITIOUS OLD"]
    assert [b.line for b in read.bad] == [3]
    simple = tmp_path / "targets.simple.csv"
    simple.write_text(
        "id,schema,name,aliases,birth_date,countries,addresses,identifiers,sanctions,phones,emails,dataset,first_seen,last_seen,last_change\n"
        "os-vessel-1,Vessel,FICTITIOUS RO-RO,FICTITIOUS OLD;FICTITIOUS OLDER,,ru,,IMO9999993;999000001,US OFAC,,,Sanctions,2024-02-24,2025-06-01,2025-06-01\n"
        "os-person-1,Person,SOMEONE,,,,,,,,,Sanctions,2024-02-24,2025-06-01,2025-06-01\n"
    )
    entries = read_opensanctions(simple).entries
    assert len(entries) == 1
    row = entries.iloc[0]
    assert (row["imo"], row["mmsi"], row["flag"], row["aliases"]) == (
        9999993,
        999000001,
        "RU",
        ["FICTITIOUS OLD", "FICTITIOUS OLDER"],
    )


def test_case_watchlist_cites_every_identifier(project_data_dir):
    read = read_watchlist(project_data_dir / "watchlists" / "case-2025.csv")
    e = read.entries.set_index("name")
    assert list(e.index) == ["BALTIC LEADER", "SIYANIE SEVERA", "PATRIA"]
    assert (
        e.loc["BALTIC LEADER", "imo"],
        e.loc["BALTIC LEADER", "mmsi"],
        e.loc["BALTIC LEADER", "callsign"],
    ) == (9220639, 273297850, "UBEW6")
    assert e.loc["SIYANIE SEVERA", "imo"] == 9250385 and pd.isna(e.loc["PATRIA", "imo"])
    assert e["imo"].dropna().map(imo_is_valid).all()
    assert e["remarks"].str.contains("source: https://").all()


def test_watchlist_yaml_and_bad_rows(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "vessels:\n"
        "  - {name: FICTITIOUS ONE, imo: 9999993, reason: test, note: fictitious}\n"
        "  - {note: no identifier at all}\n"
        "  - {name: FICTITIOUS TWO, imo: '12345'}\n"
        "  - {mmsi: 999000002, aliases: 'FICT 2; FICTITIOUS 2'}\n"
    )
    read = read_watchlist(path)
    assert list(read.entries["name"].fillna("-")) == ["FICTITIOUS ONE", "-"]
    assert read.entries.iloc[1]["aliases"] == ["FICT 2", "FICTITIOUS 2"]
    assert [(b.line, b.reason) for b in read.bad] == [
        (2, "needs a name, an IMO or an MMSI"),
        (3, "IMO must be 7 digits, found '12345'"),
    ]
    assert re.search("reason: test", read.entries.iloc[0]["remarks"])
