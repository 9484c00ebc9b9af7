"""The subcommands of ``spreadsheetcoder`` (cli.py), one module each: ``add_<command>_parser``
declares the command's arguments beside ``cmd_<command>``, which calls the library and prints the
result. Flags several commands take are defined once, in ``common``."""
