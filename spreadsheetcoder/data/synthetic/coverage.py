"""Functions of the real corpus and which of them the generator writes.

``CORPUS_FUNCTIONS`` lists every function that occurs at least 10 times among the formula cells of
``../shared/corpus`` (FUNC OPEN tokens of openpyxl's tokenizer, ``_xlfn.`` stripped; measured once
with a throwaway script, most frequent first). Tokenizer artifacts such as ``:INDEX`` (from
``A1:INDEX(...)``, which the generator also writes) are left out. ``NOT_GENERATED`` says why the
few remaining ones are never written.
"""

from __future__ import annotations

__all__ = ["CORPUS_FUNCTIONS", "NOT_GENERATED"]

CORPUS_FUNCTIONS = tuple(["MATCH", "IF", "INDEX", "IFERROR", "VLOOKUP", "ROUND", "TREND", "ISBLANK", "FIND", "SUMIFS", "LEFT", "TEXT", "WEEKNUM", "RIGHT", "OR", "TRIM", "MID", "MONTH", "AND", "SUM", "DAYS360", "COUNTIF", "TRUNC", "SUMPRODUCT", "COLUMN", "FALSE", "LEN", "MAX", "MIN", "EXP", "CONCATENATE", "ROW", "ISNUMBER", "INDIRECT", "TRUE", "DATEVALUE", "OFFSET", "COUNT", "ADDRESS", "SEARCH", "T", "SUMIF", "DDE", "LOWER", "AVERAGE", "DATE", "VALUE", "YEAR", "POWER", "HLOOKUP", "FORECAST", "ISNA", "ISERROR", "DATEDIF", "RADIANS", "ABS", "NA", "EOMONTH", "SIN", "FORMULATEXT", "FLOOR", "COS", "SQRT", "COUNTIFS", "SUBSTITUTE", "TEXTJOIN", "TODAY", "PV", "NPV", "PI", "MOD", "TABLE", "DAY", "ROUNDDOWN", "TRANSPOSE", "ERF", "YEARFRAC", "ISERR", "REPT", "ACCRINT", "POISSON.DIST", "CONCAT", "QUOTIENT", "EDATE", "FV", "GAMMALN", "EXPON.DIST", "AVERAGEIFS", "GAMMALN.PRECISE", "FISHERINV", "RAND", "ERROR.TYPE", "DOFMT", "CHOOSE", "FORECAST.LINEAR", "BITLSHIFT", "BITRSHIFT", "HOUR", "MINUTE", "SECOND", "COUNTA", "IFS", "ERFC", "ERF.PRECISE", "ERFC.PRECISE", "DELTA", "NPER", "SUMSQ", "SUBTOTAL", "NOMINAL", "EFFECT", "IPCSUMMENPRODUKTINTERN", "N", "DDB", "EVEN", "ODD", "PRODUCT", "DB", "BASE", "SHEET", "RATE", "RANK", "CELL", "TYPE", "FISHER", "ROMAN", "GAUSS", "ATAN2", "CODE", "HEX2DEC", "ROUNDUP", "TIME", "GESTEP", "CUMIPMT", "CUMPRINC", "PROB", "DEGREES", "PERCENTILE", "IRR", "NUMFMT", "ISODD", "ISEVEN", "FACTDOUBLE", "COMPLEX", "SLN", "AVERAGEIF", "TIMEVALUE", "BITAND", "BITOR", "BITXOR", "SYD", "XNPV", "AVERAGEA", "TEXTSPLIT", "FIXED", "XIRR", "DECIMAL", "COUNTBLANK", "SMALL", "MMULT", "ISTEXT", "SEQUENCE", "FREQUENCY", "TRIMMEAN", "STDEV", "FILTER", "XMATCH", "PERMUT", "DOLLARFR", "DOLLARDE", "UPPER", "WEEKDAY", "IMAGINARY", "SQUARE", "REPLACE", "ANCHORARRAY", "ACCRINTM", "PDURATION", "PERMUTATIONA", "LARGE", "CHAR", "DOTSTATQUERY", "IFNA", "PERCENTILE.INC", "PERCENTILE.EXC", "EXACT", "LOG", "HYPERLINK", "ISPMT", "ISNONTEXT", "SQRTPI", "DISC", "ISLOGICAL", "VALUETOTEXT", "UNIQUE", "IMREAL", "MINVERSE", "NOT", "LAMBDA", "MULTINOMIAL", "LINEST", "MDETERM", "GAMMA", "GROWTH", "PROPER", "_FV", "LOG10", "MEDIAN", "RRI", "ISREF", "DSUM", "ROWS", "COLUMNS", "CONVERT", "FACT", "RANK.AVG", "RANK.EQ", "DMIN", "DMAX", "CEILING", "__XLUDF.DUMMYFUNCTION"])

_FOREIGN = "not an Excel worksheet function (add-in, user-defined or foreign-application name)"
NOT_GENERATED: dict[str, str] = {
    "DOFMT": _FOREIGN, "NUMFMT": _FOREIGN, "IPCSUMMENPRODUKTINTERN": _FOREIGN, "DOTSTATQUERY": _FOREIGN,
    "SQUARE": _FOREIGN, "_FV": _FOREIGN, "__XLUDF.DUMMYFUNCTION": _FOREIGN,
}
