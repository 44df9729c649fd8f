"""Which cells a spreadsheet would run as formulas, and how every file we write defuses them.

One rule for every export, the public CSV (claims.exports) and the admin's CSV and XLSX
(claims.resources), and for imports, which take the defusing off again."""

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): "=", "+",
# "-" and "@" start one, and a tab or carriage return first hides the character after it.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# What goes before such a cell: an apostrophe makes spreadsheets show the rest as text.
DEFUSER = "'"


def defuse(cell):
    """`cell` as a spreadsheet will show it as text, never run it."""
    return f"{DEFUSER}{cell}" if cell.startswith(FORMULA_TRIGGERS) else cell


def restore(cell):
    """The cell `defuse` was given: what an import of our own export reads."""
    if cell.startswith(DEFUSER) and cell[len(DEFUSER) :].startswith(FORMULA_TRIGGERS):
        return cell[len(DEFUSER) :]
    return cell
