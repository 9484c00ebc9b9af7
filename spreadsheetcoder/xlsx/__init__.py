"""The two ends of the pipeline: reading an .xlsx (or a converted .xls/.xlsb/.ods) into a ``Workbook``
and writing formulas back into the same package losslessly.

- ``package``: opening an untrusted package (format by content, zip and XML guards);
- ``parts``: the workbook and worksheet parts, found through the package's relationships;
- ``reader`` / ``worksheet``: ``read_workbook`` and the streaming worksheet parser;
- ``convert``: other formats through LibreOffice headless;
- ``writer``: the lossless formula writer and ``write_atomic``.
"""
