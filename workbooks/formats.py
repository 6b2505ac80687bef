"""What kind of file an upload is, judged by its bytes: xlsx, ods or text; zip bombs and old formats refused.

Plain Python, no Django: the isolated child that parses uploads imports it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from workbooks.headers import FileRefused

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# A real workbook has a dozen or two members and compresses its XML about 10:1.
MAX_ZIP_MEMBERS = 1000
LARGE_MEMBER_BYTES = 16 * 2**20
MAX_COMPRESSION_RATIO = 100
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

UPLOAD_FORMATS = "请上传 .xlsx 或 .csv 文件"
XLS_REFUSED = "不支持 .xls 格式，请在 Excel 中“另存为” .xlsx 后再上传"
ENCRYPTED = "文件设置了打开密码，请在 Excel 中取消密码并另存为 .xlsx 后再上传"
CORRUPT = "文件已损坏或格式不正确，无法读取，请在 Excel 中重新保存为 .xlsx 后再上传"
TOO_LARGE = "文件解压后过大，疑似异常文件，已拒绝"
UNKNOWN_ENCODING = "无法识别 CSV 文件的编码，请另存为“CSV UTF-8”格式后再上传"
NUL_BYTES = (
    "文件中含有空字节（NUL），不是以文本保存的 CSV 文件：可能是其他格式的文件改成了 .csv 扩展名，"
    "或以 UTF-16 等编码保存而缺少编码标记。请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后再上传"
)
# How much of a text file is looked at for NUL bytes and, if it has them, for the UTF-16 they may be.
SNIFF_BYTES = 4096


def detect_format(path: Path, original_name: str, max_uncompressed_bytes: int) -> str:
    """'xlsx', 'ods' or 'csv', judged by content first and by the name only for text files."""
    suffix = Path(original_name).suffix.lower()
    with path.open("rb") as file:
        magic = file.read(8)
    if not magic:
        raise FileRefused("文件是空的")
    if magic.startswith(OLE_MAGIC):
        # Excel wraps a password-protected .xlsx in the same container as an old .xls.
        raise FileRefused(ENCRYPTED if suffix in (".xlsx", ".xlsm") else XLS_REFUSED)
    if magic.startswith(ZIP_MAGIC):
        return _inspect_zip(path, max_uncompressed_bytes)
    if suffix == ".xls":
        raise FileRefused(XLS_REFUSED)
    if suffix in (".xlsx", ".xlsm", ".ods"):
        raise FileRefused(CORRUPT)
    if suffix not in (".csv", ".txt", ""):
        raise FileRefused(f"不支持 {suffix} 文件，{UPLOAD_FORMATS}")
    return "csv"


def _inspect_zip(path: Path, max_uncompressed_bytes: int) -> str:
    """Refuse zip bombs from the directory alone, before anything is decompressed."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            inflated = any(
                member.file_size > LARGE_MEMBER_BYTES
                and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
                for member in members
            )
            total = sum(member.file_size for member in members)
            if len(members) > MAX_ZIP_MEMBERS or total > max_uncompressed_bytes or inflated:
                raise FileRefused(TOO_LARGE)
            names = {member.filename for member in members}
            mimetype = archive.read("mimetype") if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        raise FileRefused(CORRUPT) from error
    if "xl/workbook.xml" in names:
        return "xlsx"
    if mimetype.startswith(ODS_MIMETYPE):
        return "ods"
    if "xl/workbook.bin" in names:
        raise FileRefused("不支持 .xlsb 格式，请在 Excel 中“另存为” .xlsx 后再上传")
    raise FileRefused(f"文件不是 Excel 工作簿，{UPLOAD_FORMATS}")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 as Excel's "Unicode 文本" writes it (or without its BOM), else GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    elif b"\x00" in data[:SNIFF_BYTES]:
        # No text encoding but UTF-16 puts NUL bytes in ordinary text: anything else is not a text table.
        utf16 = _utf16_without_bom(data[:SNIFF_BYTES])
        if utf16 is None:
            raise FileRefused(NUL_BYTES)
        encodings = (utf16,)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(NUL_BYTES if encodings[0].startswith("utf-16-") else UNKNOWN_ENCODING)


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the sample's NUL bytes are the high bytes of ASCII characters, else None.

    A table's delimiters, digits and line breaks are ASCII, so at least one code unit in twenty
    has a NUL high byte, always on the same side; a stray NUL in UTF-8 text or a binary file does not.
    """
    sample = sample[: len(sample) // 2 * 2]
    units = len(sample) // 2
    nul_first, nul_second = sample[0::2].count(0), sample[1::2].count(0)
    if nul_first and nul_second:
        return None
    encoding = "utf-16-be" if nul_first else "utf-16-le"
    if max(nul_first, nul_second) * 20 < units:
        return None
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        # The sample may end inside a surrogate pair: only what precedes it must decode.
        try:
            sample[:-2].decode(encoding)
        except UnicodeDecodeError:
            return None
    return encoding
