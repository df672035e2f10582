"""Office files (.xlsx, .docx) are zip archives of XML parts: checked before anything parses
them, so a small upload cannot unpack into gigabytes or expand entities (issue "Hardening" 1).

Every member is decompressed as a stream and its real size counted (the sizes a zip declares
are checked too, but not trusted alone): a member, the whole archive and the compression
ratio are capped. XML parts must be UTF-8 or UTF-16 and hold no document type declaration
(DTD) and so no entities: billion laughs and external entities are refused here, and
openpyxl parses with defusedxml besides. OWASP ASVS 5.0 V5.2.3 (compressed files), V1.5.
"""

from __future__ import annotations

import codecs
import io
import lzma
import re
import zipfile
import zlib
from dataclasses import dataclass

from workflow.errors import Refusal, ValidationFailed, refuse

MB = 1024 * 1024
CHUNK = 256 * 1024
RATIO_FLOOR = MB  # a member smaller than this unpacked may have any ratio


@dataclass(frozen=True)
class Limits:
    """How far an archive may unpack: members, bytes per member, bytes in all, ratio."""

    max_members: int
    max_member_bytes: int
    max_total_bytes: int
    max_ratio: int = 100


# The quarterly template filled in: two sheets of at most 2,000 rows each.
SPREADSHEET = Limits(max_members=200, max_member_bytes=16 * MB, max_total_bytes=32 * MB)
# An attached .docx / .xlsx (20 MB compressed at most): long reports with images.
OFFICE_ATTACHMENT = Limits(max_members=2000, max_member_bytes=64 * MB,
                           max_total_bytes=128 * MB)

_ALLOWED_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be"}
_DECLARED_ENCODING = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_FORBIDDEN = ("<!DOCTYPE", "<!ENTITY")


def _mb(n: int) -> int:
    return n // MB


def _refusal(code: str, zh: str, en: str, **details: object) -> Refusal:
    return refuse(code, zh, en, field="file", details=dict(details))


def too_big(member: str, limit: int) -> Refusal:
    return _refusal("archive_member_too_large",
                    f"文件中的部件“{member[:100]}”解压后超过 {_mb(limit)} MB 上限（疑似压缩炸弹），不予接受",
                    f"the part '{member[:100]}' unpacks to more than {_mb(limit)} MB "
                    "(a likely zip bomb); the file is refused",
                    member=member[:200], limit_bytes=limit)


def _total_too_big(limit: int) -> Refusal:
    return _refusal("archive_too_large",
                    f"文件解压后总大小超过 {_mb(limit)} MB 上限（疑似压缩炸弹），不予接受",
                    f"the file unpacks to more than {_mb(limit)} MB in all "
                    "(a likely zip bomb); it is refused", limit_bytes=limit)


def _ratio_too_high(member: str, limit: int) -> Refusal:
    return _refusal("archive_ratio_too_high",
                    f"文件中的部件“{member[:100]}”压缩比超过 {limit}:1（疑似压缩炸弹），不予接受",
                    f"the part '{member[:100]}' is compressed more than {limit}:1 "
                    "(a likely zip bomb); the file is refused",
                    member=member[:200], max_ratio=limit)


def _too_many(count: int, limit: int) -> Refusal:
    return _refusal("archive_too_many_members", f"文件包含的部件超过 {limit} 个，不予接受",
                    f"the file holds more than {limit} parts; it is refused",
                    members=count, limit=limit)


def _corrupt() -> Refusal:
    return _refusal("corrupt_archive", "文件已损坏或无法解压（不是有效的 Office 文件）",
                    "the file is damaged or cannot be unpacked (not a valid Office file)")


def dtd_refusal(member: str) -> Refusal:
    return _refusal("xml_dtd_forbidden",
                    f"文件中的部件“{member[:100]}”含有 XML 文档类型定义（DTD）或实体声明，"
                    "出于安全原因不予接受",
                    f"the part '{member[:100]}' holds an XML document type definition (DTD) or "
                    "entity declarations, which are refused for safety", member=member[:200])


def _encoding_refusal(member: str, encoding: str) -> Refusal:
    return _refusal("xml_encoding_not_allowed",
                    f"文件中的部件“{member[:100]}”使用了 {encoding[:40]} 编码，只接受 UTF-8 或 UTF-16",
                    f"the part '{member[:100]}' is encoded in {encoding[:40]}; only UTF-8 and "
                    "UTF-16 are accepted", member=member[:200], encoding=encoding[:40])


def inspect(data: bytes, limits: Limits) -> None:
    """Refuse (`ValidationFailed`, field `file`) an archive that unpacks too far, is
    compressed too hard, has too many parts, is damaged, or has XML with a DTD."""
    # a central directory entry starts with PK\1\2: count them before zipfile reads them all
    if data.count(b"PK\x01\x02") > limits.max_members:
        raise ValidationFailed(_too_many(data.count(b"PK\x01\x02"), limits.max_members))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise ValidationFailed(_corrupt()) from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > limits.max_members:
            raise ValidationFailed(_too_many(len(infos), limits.max_members))
        for info in infos:  # what the archive says of itself: cheap, checked first
            if info.file_size > limits.max_member_bytes:
                raise ValidationFailed(too_big(info.filename, limits.max_member_bytes))
        if sum(i.file_size for i in infos) > limits.max_total_bytes:
            raise ValidationFailed(_total_too_big(limits.max_total_bytes))
        total = 0
        for info in infos:  # what it really unpacks to
            total += _check_member(archive, info, limits, total, len(data))


def _check_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits,
                  total_before: int, archive_size: int) -> int:
    """Unpack one member as a stream, counting; return its real size."""
    packed = max(1, min(info.compress_size, archive_size))
    got = 0
    scan: _XmlScan | None = None
    first = True
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                got += len(chunk)
                if got > limits.max_member_bytes:
                    raise ValidationFailed(too_big(info.filename, limits.max_member_bytes))
                if total_before + got > limits.max_total_bytes:
                    raise ValidationFailed(_total_too_big(limits.max_total_bytes))
                if got > RATIO_FLOOR and got > limits.max_ratio * packed:
                    raise ValidationFailed(_ratio_too_high(info.filename, limits.max_ratio))
                if first:
                    scan = _XmlScan.start(info.filename, chunk)
                    first = False
                if scan is not None:
                    scan.feed(chunk)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError,
            RuntimeError, NotImplementedError, ValueError):
        # bad CRC, a damaged stream, encryption or an unsupported compression method
        raise ValidationFailed(_corrupt()) from None
    return got


def _xml_codec(head: bytes) -> str | None:
    """The codec an XML part starting with `head` is written in, or None if it is not XML
    (an image, say). Decided by content, not by the part's name."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for codec, unit in (("utf-32-le", 4), ("utf-32-be", 4), ("utf-16-le", 2),
                        ("utf-16-be", 2), ("utf-8", 1)):
        sample = head[:64 - 64 % unit]
        try:
            text = sample.decode(codec, errors="strict" if unit > 1 else "ignore")
        except UnicodeDecodeError:
            continue
        if text.lstrip(" \t\r\n").startswith("<"):
            return codec
    return None


class _XmlScan:
    """Looks through an XML part as it streams by for a DTD or an entity declaration."""

    def __init__(self, member: str, codec: str) -> None:
        self.member = member
        self.decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        self.tail = ""

    @classmethod
    def start(cls, member: str, head: bytes) -> _XmlScan | None:
        codec = _xml_codec(head)
        if codec is None:
            return None
        if codec.startswith("utf-32"):
            raise ValidationFailed(_encoding_refusal(member, "UTF-32"))
        declared = _DECLARED_ENCODING.match(head[:400].decode(codec, errors="replace"))
        if declared and declared.group(1).strip().lower() not in _ALLOWED_ENCODINGS:
            raise ValidationFailed(_encoding_refusal(member, declared.group(1)))
        return cls(member, codec)

    def feed(self, chunk: bytes) -> None:
        text = self.tail + self.decoder.decode(chunk)
        if any(mark in text for mark in _FORBIDDEN):
            raise ValidationFailed(dtd_refusal(self.member))
        self.tail = text[-(max(map(len, _FORBIDDEN)) - 1):]
