"""Office files are checked before anything parses them (issue "Hardening" 1): how far
they unpack, how hard they are compressed, how many parts they have, whether their XML
declares a DTD; and the parse itself runs in a child under a time and a memory limit."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from datetime import date

import pytest

from tests import hostile_files
from workflow.errors import ValidationFailed
from workflow.services import archives, isolated, quarterly_excel

MB = 1024 * 1024
HEADING = "季度数据报送模板"  # the notes sheet's first line (the programme's heading)
SMALL = archives.Limits(max_members=20, max_member_bytes=4 * MB, max_total_bytes=6 * MB,
                        max_ratio=100)


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def refusal(data: bytes, limits: archives.Limits = SMALL) -> str:
    with pytest.raises(ValidationFailed) as err:
        archives.inspect(data, limits)
    assert err.value.first.field == "file"
    assert err.value.first.zh and err.value.first.en
    return err.value.first.code


def test_openpyxl_parses_through_defusedxml_in_the_child_too() -> None:
    import openpyxl

    assert openpyxl.DEFUSEDXML is True
    assert isolated.call(_defused, seconds=60, memory_bytes=512 * MB) is True


def _defused() -> bool:
    import openpyxl

    return bool(openpyxl.DEFUSEDXML)


def test_the_generated_template_filled_in_passes() -> None:
    archives.inspect(quarterly_excel.template(HEADING), archives.SPREADSHEET)
    archives.inspect(hostile_files.docx(), archives.OFFICE_ATTACHMENT)


def test_a_part_that_unpacks_past_the_limit_is_refused_from_its_declared_size() -> None:
    started = time.monotonic()
    assert refusal(hostile_files.comment_bomb(quarterly_excel.template(HEADING), mb=40),
                   archives.SPREADSHEET) == "archive_member_too_large"
    assert time.monotonic() - started < 30  # building it is most of that; refusing is instant


def test_a_zip_that_lies_about_its_sizes_is_refused_without_unpacking_the_lie() -> None:
    honest = zip_of({"xl/worksheets/sheet1.xml": b"<x>" + b" " * (12 * MB) + b"</x>"})
    # declare 1 KB unpacked, in the local header and the central directory alike
    lying = bytearray(honest)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = lying.index(signature)
        struct.pack_into("<I", lying, at + offset, 1024)
    assert zipfile.ZipFile(io.BytesIO(bytes(lying))).infolist()[0].file_size == 1024
    assert refusal(bytes(lying)) == "corrupt_archive"


def test_a_part_compressed_far_harder_than_any_real_workbook_is_refused() -> None:
    assert refusal(zip_of({"xl/worksheets/sheet1.xml": b"<x>" + b"\0" * (3 * MB)})) \
        == "archive_ratio_too_high"


def test_parts_that_unpack_past_the_total_limit_together_are_refused() -> None:
    parts = {f"xl/media/image{i}.bin": bytes(range(256)) * (8 * 1024) for i in range(4)}
    assert refusal(zip_of(parts)) == "archive_too_large"  # 4 x 2 MB > 6 MB


def test_an_archive_with_too_many_parts_is_refused() -> None:
    assert refusal(zip_of({f"xl/p{i}.xml": b"<p/>" for i in range(21)})) \
        == "archive_too_many_members"


def test_a_damaged_archive_is_refused() -> None:
    good = zip_of({"xl/workbook.xml": b"<workbook>" + b"data " * 1000 + b"</workbook>"})
    damaged = bytearray(good)
    damaged[40:60] = b"\xff" * 20  # inside the deflated stream
    assert refusal(bytes(damaged)) == "corrupt_archive"


@pytest.mark.parametrize("document", [
    hostile_files.LAUGHS.encode() + b"<worksheet>&lol9;</worksheet>",
    b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
    b"  <!DOCTYPE x [<!ENTITY e 'e'>]><x>&e;</x>",
    (hostile_files.LAUGHS + "<worksheet>&lol9;</worksheet>").encode("utf-16"),
    (hostile_files.LAUGHS + "<worksheet/>").encode("utf-16-be"),
], ids=["billion laughs", "external entity", "no declaration", "UTF-16", "UTF-16 no BOM"])
def test_xml_declaring_a_dtd_is_refused_whatever_the_part_is_called(document: bytes) -> None:
    data = zip_of({"[Content_Types].xml": b"<Types/>", "xl/strange-name.dat": document})
    assert refusal(data) == "xml_dtd_forbidden"


def test_a_dtd_split_across_two_chunks_is_still_found() -> None:
    padding = b" " * (archives.CHUNK - 4)
    data = zip_of({"xl/workbook.xml": b"<?xml version='1.0'?>" + padding
                   + b"<!DOCTYPE x [<!ENTITY e 'e'>]><x/>"})
    assert refusal(data, archives.Limits(20, 4 * MB, 6 * MB, max_ratio=10_000)) \
        == "xml_dtd_forbidden"


def test_xml_in_an_encoding_other_than_utf8_or_utf16_is_refused() -> None:
    ebcdic = b'<?xml version="1.0" encoding="cp037"?>' + "<x/>".encode("cp037")
    assert refusal(zip_of({"xl/workbook.xml": ebcdic})) == "xml_encoding_not_allowed"
    assert refusal(zip_of({"xl/workbook.xml": "<x/>".encode("utf-32")})) \
        == "xml_encoding_not_allowed"


def test_images_are_not_taken_for_xml() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"<!DOCTYPE" + bytes(range(256)) * 4
    archives.inspect(zip_of({"xl/media/image1.png": png}), SMALL)


def test_a_parse_over_its_time_limit_is_killed() -> None:
    started = time.monotonic()
    with pytest.raises(isolated.TimeLimitExceeded):
        isolated.call(time.sleep, 60, seconds=1, memory_bytes=512 * MB)
    assert time.monotonic() - started < 20


def test_a_parse_over_its_memory_limit_is_stopped() -> None:
    with pytest.raises(isolated.MemoryLimitExceeded):
        isolated.call(bytearray, 2048 * MB, seconds=60, memory_bytes=512 * MB)


def test_the_child_returns_the_result_or_raises_what_the_function_raised() -> None:
    assert isolated.call(sorted, [3, 1, 2], seconds=60, memory_bytes=512 * MB) == [1, 2, 3]
    with pytest.raises(ValueError, match="invalid literal"):
        isolated.call(int, "abc", seconds=60, memory_bytes=512 * MB)


def test_reading_a_workbook_over_the_time_limit_is_a_refusal_naming_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quarterly_excel, "PARSE_SECONDS", 0.001)
    quarters, errors = quarterly_excel.read_workbook(quarterly_excel.template(HEADING),
                                                     date(2007, 2, 1))
    assert quarters == [] and [e.code for e in errors] == ["parse_time_limit"]
    assert "秒内未能读完" in errors[0].zh and "could not be read within" in errors[0].en


def test_the_billion_laughs_never_reaches_the_parser() -> None:
    with pytest.raises(ValidationFailed) as err:
        quarterly_excel.read_workbook(hostile_files.billion_laughs(quarterly_excel.template(HEADING)),
                                      date(2007, 2, 1))
    assert err.value.first.code == "xml_dtd_forbidden"
    assert err.value.first.details["member"] == hostile_files.SHEET
