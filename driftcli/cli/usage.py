"""Usage errors (a bad option value, an unknown option or command) in driftcli's own form.

Click prints its usage text and `Error: Invalid value for '--bins': 1 is not
in the range x>=2.`; every other driftcli error is one `error:` line and,
where it helps, one `hint:` line (README, exit codes). The command group
turns Click's usage errors into that form, wherever they are raised:
parsing the root's options, finding the command, parsing its options, or a
callback's check of a value.
"""

import contextlib
import re
from collections.abc import Iterator
from typing import IO, Any

import typer

# Typer ships its own copy of Click (typer._click) from 0.26 on; the exception
# classes are the ones its parser raises.
from typer._click.exceptions import BadParameter, NoArgsIsHelpError, NoSuchOption, UsageError
from typer.core import TyperGroup

_RANGE = re.compile(r"(?P<value>.+) is not in the range (?P<range>.+?)\.?", re.DOTALL)
_BOUND = re.compile(r"x(?P<op>>=|<=|>|<)(?P<bound>.+)")
_BOUND_WORDS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}
_NOT_NUMBER = re.compile(r"(?P<value>.+) is not a valid (?P<type>float|integer|int)( range)?\.?")
_NEEDS_VALUE = re.compile(r"[Oo]ption '(?P<option>[^']+)' requires an argument\.?")
_NO_COMMAND = re.compile(r"No such command '(?P<name>[^']*)'\.\s*(?P<rest>.*)", re.DOTALL)


class PlainUsageError(UsageError):
    """A usage error shown as driftcli shows every error: `error: ...`, then `hint: ...`."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file: IO[Any] | None = None) -> None:
        typer.echo(f"error: {self.message}", err=True, file=file)
        typer.echo(f"hint: {self.hint}", err=True, file=file)


class DriftcliGroup(TyperGroup):
    """The root command: its commands' usage errors come out as `PlainUsageError`s."""

    command_path = "driftcli"
    """The command being parsed, for the hint of an error that does not name it."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with plain_usage_errors(self):
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with plain_usage_errors(self):
            return super().invoke(ctx)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        self.command_path = f"{ctx.command_path} {name}"
        return name, command, rest


@contextlib.contextmanager
def plain_usage_errors(group: DriftcliGroup) -> Iterator[None]:
    """Click's usage errors re-raised in driftcli's form (help for no arguments stays)."""
    try:
        yield
    except (PlainUsageError, NoArgsIsHelpError):
        raise
    except UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else group.command_path
        message, hint = plain(exc)
        raise PlainUsageError(message, hint or f"see {command} --help") from None


def plain(exc: UsageError) -> tuple[str, str | None]:
    """The one-line message of a usage error, and a hint where Click had one."""
    if isinstance(exc, BadParameter):
        option = _option_of(exc)
        reason = exc.message.strip()
        in_range = _RANGE.fullmatch(reason)
        bound = _BOUND.fullmatch(in_range["range"].strip()) if in_range else None
        if in_range and bound:
            words = f"{_BOUND_WORDS[bound['op']]} {_number(bound['bound'])}"
            return f"{option} must be {words}, not {in_range['value']}", None
        not_number = _NOT_NUMBER.fullmatch(reason)
        if not_number:
            what = "a whole number" if not_number["type"].startswith("int") else "a number"
            return f"{option} must be {what}, not {not_number['value']}", None
        return f"{option}: {reason.rstrip('.')}", None
    if isinstance(exc, NoSuchOption):
        import difflib

        close = difflib.get_close_matches(exc.option_name, exc.possibilities or (), n=1)
        hint = f"did you mean {close[0]}?" if close else None
        return f"no such option: {exc.option_name}", hint
    text = exc.format_message().strip()
    needs = _NEEDS_VALUE.fullmatch(text)
    if needs:
        return f"{needs['option']} needs a value", None
    unknown = _NO_COMMAND.fullmatch(text)
    if unknown:
        rest = unknown["rest"].strip()
        return f"no such command: {unknown['name']}", _lower_first(rest) or None
    return _lower_first(" ".join(text.split())).rstrip("."), None


def _option_of(exc: BadParameter) -> str:
    """`--bins`: the option's first name (an argument's metavar), as the user typed it."""
    param = exc.param
    if param is None:
        return str(exc.param_hint or "a value").strip("'")
    if getattr(param, "param_type_name", "") == "option" and param.opts:
        return str(max(param.opts, key=len))
    return str(param.human_readable_name)


def _number(text: str) -> str:
    """`0.0` as 0, `2` as 2; text that is no plain number as it is."""
    try:
        value = float(text)
    except ValueError:
        return text.strip()
    return f"{value:g}" if abs(value) < 1e15 else text.strip()


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
