"""The XLSX export's workbook (openpyxl, write-only): apart, so that only a process that
writes one loads openpyxl."""

from __future__ import annotations

from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .data import FORMULA_STARTS, NUMBER_FORMATS, EndorsementExport, Kind, _table_records


def _xlsx_value(sheet, value: object, kind: Kind) -> object:
    if value is None:
        return None
    if kind is Kind.FLAG:
        return "yes" if value else "no"
    if kind in NUMBER_FORMATS:
        if isinstance(value, datetime):
            value = value.replace(microsecond=0)  # to the second, as the CSV and JSON say it
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = NUMBER_FORMATS[kind]
        return cell
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters no XML file may hold
        if value[:1] in FORMULA_STARTS or value in ERROR_CODES:
            # openpyxl would store "=..." as a formula and "#N/A" as an error: keep it
            # text, with the quote prefix Excel gives a cell typed as '=..., so the
            # name stays exact and editing the cell does not make it a formula.
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
    return value


def build_workbook(export: EndorsementExport, file) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(export.sheet_title)
    # Written before the first row, as write-only sheets require.
    sheet.freeze_panes = "A2"
    columns = export.table_columns
    for index, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header = []
    for heading in export.headings:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.data_type = "s"
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    kinds = [column.kind for column in columns]
    for record in _table_records(export):
        sheet.append([_xlsx_value(sheet, value, kind) for value, kind in zip(record, kinds)])
    workbook.save(file)
