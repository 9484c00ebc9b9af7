"""Helpers shared by the tests, imported as ``from tests.support.<module> import ...``.

- ``paths``: the repository root and sample_sheets/.
- ``sheets``: small in-memory sheets (``make_sheet``) and a folder of the sample workbooks.
- ``badfiles``: workbooks good and bad, built in memory (openpyxl, hand-made packages, hostile parts).
- ``suggest_support``: real .xlsx files with formulas and their cached values.
- ``service_support``: a real uvicorn server, the hostile uploads, checks of the service's answers.
- ``tiny_model``: the tiny model configuration and a few training steps on it.
"""
