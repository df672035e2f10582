"""Hostile Office files for the upload tests, built from real ones and written as streams so
building an 800 MB bomb costs seconds and a megabyte of memory, not 800 MB."""

from __future__ import annotations

import io
import zipfile

SHEET = "xl/worksheets/sheet1.xml"
MB = 1024 * 1024
# nine levels of ten: 10**9 "lol"s once expanded (the classic billion laughs)
LAUGHS = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE worksheet [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                    for i in range(1, 10)) + "]>\n")


def _rewrite(original: bytes, member: str, write: object) -> bytes:
    """A copy of the zip `original` in which `write(stream, old_bytes)` writes `member`."""
    source = zipfile.ZipFile(io.BytesIO(original))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != member:
                z.writestr(info.filename, data)
                continue
            with z.open(member, "w") as stream:
                write(stream, data)  # type: ignore[operator]
    return out.getvalue()


def comment_bomb(template: bytes, mb: int = 800) -> bytes:
    """The quarterly template, valid, with `mb` MB of comment text after </sheetData> in
    sheet1.xml: about 1 KB packed per MB unpacked (800 MB packs to ~820 KB)."""
    def write(stream: io.BufferedIOBase, data: bytes) -> None:
        head, tail = data.split(b"</sheetData>", 1)
        stream.write(head + b"</sheetData><!--")
        block = b"A" * MB
        for _ in range(mb):
            stream.write(block)
        stream.write(b"-->" + tail)

    return _rewrite(template, SHEET, write)


def billion_laughs(template: bytes) -> bytes:
    """The quarterly template whose sheet1.xml declares the billion laughs and uses it."""
    def write(stream: io.BufferedIOBase, data: bytes) -> None:
        text = data.decode()
        if text.startswith("<?xml"):
            text = text.split("?>", 1)[1]
        text = text.replace("<sheetData>", "<sheetData><row r=\"2\"><c r=\"C2\" t=\"inlineStr\">"
                            "<is><t>&lol9;</t></is></c></row>", 1)
        stream.write((LAUGHS + text).encode())

    return _rewrite(template, SHEET, write)


def docx(document: bytes = b"<w:document/>") -> bytes:
    """A minimal Word file (what files.sniff takes for .docx)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types/>')
        z.writestr("word/document.xml", document)
    return out.getvalue()


def docx_bomb(mb: int) -> bytes:
    """A Word file whose document.xml unpacks to `mb` MB."""
    def write(stream: io.BufferedIOBase, data: bytes) -> None:
        stream.write(b"<w:document><!--")
        block = b" " * MB
        for _ in range(mb):
            stream.write(block)
        stream.write(b"--></w:document>")

    return _rewrite(docx(), "word/document.xml", write)
