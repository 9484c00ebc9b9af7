"""The command line's shape: one parser per command (spreadsheetcoder/commands/), flags shared by
several commands defined once, real defaults in --help, and main's rule for errors."""

from __future__ import annotations

import argparse

import pytest

from spreadsheetcoder.cli import build_parser, main
from spreadsheetcoder.constants import (
    CONTEXT_SETTINGS,
    DEFAULT_CONTEXT,
    DEFAULT_MIN_CONFIDENCE,
    WINDOW_RADIUS,
)
from spreadsheetcoder.errors import ConfigError

COMMANDS = ("extract", "synth", "stats", "cache", "train", "evaluate", "predict", "fill", "check", "serve")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in parser._actions if flag in a.option_strings), None)


def test_every_command_has_a_parser_and_an_entry_point() -> None:
    parsers = _subparsers()
    assert tuple(parsers) == COMMANDS
    for name, parser in parsers.items():
        func = parser.get_default("func")
        assert func.__name__ == f"cmd_{name}" and func.__module__ == f"spreadsheetcoder.commands.{name}"


def test_shared_flags_have_one_definition() -> None:
    parsers = _subparsers()
    have_json = {n for n, p in parsers.items() if _option(p, "--json")}
    have_progress = {n for n, p in parsers.items() if _option(p, "--no-progress")}
    assert have_json == set(COMMANDS) - {"serve"}
    assert have_progress == set(COMMANDS) - {"serve", "stats"}
    for name in have_progress:
        action = _option(parsers[name], "--no-progress")
        assert action is not None and action.default is False and action.help == "hide the progress bar"
    defaults = {"extract": DEFAULT_CONTEXT, "cache": DEFAULT_CONTEXT, "evaluate": DEFAULT_CONTEXT,
                "predict": None, "fill": None}  # predict/fill: the predictor's own (formulas for the pipeline)
    for name, parser in parsers.items():
        context = _option(parser, "--context")
        assert (context is not None) == (name in defaults), name
        if context is not None:
            assert tuple(context.choices or ()) == CONTEXT_SETTINGS and context.default == defaults[name]
    predict, fill = parsers["predict"], parsers["fill"]
    for flag in ("--model", "--context", "-k", "--beam", "--batch-size", "--device", "--model-only", "--json"):
        a, b = _option(predict, flag), _option(fill, flag)
        assert a is not None and b is not None
        assert (a.default, a.help, a.type, a.metavar) == (b.default, b.help, b.type, b.metavar), flag


@pytest.mark.parametrize(("command", "shown"), [
    ("serve", ["--port PORT TCP port (default: 8000)", "(default: 127.0.0.1)"]),
    ("synth", ["random seed of the run (default: 0)"]),
    ("extract", [f"(default: {WINDOW_RADIUS};", f"(default: {DEFAULT_CONTEXT})"]),
    ("cache", [f"(default: {DEFAULT_CONTEXT})", "(default: read from the first example)"]),
    ("evaluate", [f"(default: {DEFAULT_CONTEXT})", "(default: dev)"]),
    ("fill", [f"the default, {DEFAULT_MIN_CONFIDENCE:g}, keeps", "formulas: the sheet as it is, its other formulas "
              "visible (the default)", "with --model-only the default is the model's own setting"]),
    ("predict", ["formulas: the sheet as it is, its other formulas visible (the default)"]),
])
def test_help_shows_the_real_defaults(command: str, shown: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for part in shown:
        assert part in text, part
    assert "(default: None)" not in text and "(default: False)" not in text


def test_library_errors_are_one_line_and_bugs_are_tracebacks(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import spreadsheetcoder.data.stats as stats

    def raising(error: BaseException):  # stands in for the library function cmd_stats calls
        def compare_stats(*args: object, **kwargs: object) -> None:
            raise error
        return compare_stats

    for error in (ConfigError("a deliberate error"), PermissionError("permission denied: x.jsonl")):
        monkeypatch.setattr(stats, "compare_stats", raising(error))
        assert main(["stats", "x.jsonl"]) == 2
        err = capsys.readouterr().err
        assert err == f"spreadsheetcoder stats: error: {error}\n"
    for bug in (ValueError("a bug"), KeyError("a bug")):  # not turned into a user error
        monkeypatch.setattr(stats, "compare_stats", raising(bug))
        with pytest.raises(type(bug), match="a bug"):
            main(["stats", "x.jsonl"])


def test_user_errors_stay_one_line(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("not examples\n")
    (tmp_path / "SPLITS.tsv").write_text("file\tsplit\nbook.xlsx\tvalidation\n")
    for argv, message in [
        (["stats", str(tmp_path / "notes.txt")], "line 1: not JSON"),
        (["stats", str(tmp_path / "missing.jsonl")], "No such file"),
        (["cache", str(tmp_path / "notes.txt"), "-o", str(tmp_path / "c")], "line 1: not JSON"),
        (["evaluate", str(tmp_path), "--baselines-only", "--splits", str(tmp_path / "SPLITS.tsv")],
         "unknown split 'validation'"),
        (["synth", "-n", "-1", "-o", str(tmp_path / "s")], "need n >= 0"),
        (["train"], "no training data"),
    ]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (argv, err)
