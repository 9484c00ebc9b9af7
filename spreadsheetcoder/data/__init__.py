"""Data pipeline: workbooks to examples (extract), synthetic workbooks, datasets."""

from .extract import ExtractSummary, extract, extract_workbook

__all__ = ["ExtractSummary", "extract", "extract_workbook"]
