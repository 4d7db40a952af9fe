"""The entry point: global options placed, click run, every error a sentence and an exit code."""

from __future__ import annotations

import contextlib
import os
import sys

import click

from evidence.cli.commands import cli
from evidence.controls import terminal_safe
from evidence.errors import EvidenceError

_GLOBAL_FLAGS = ("--offline", "--debug")
_GLOBAL_VALUES = ("--library", "-L", "--mailto")


def place_global_options(args: list[str]) -> list[str]:
    """The arguments with the global options (--library, --offline, --mailto, --debug) moved before the command
    and --json after it, so each works on either side: 'evidence check a.md --offline', 'evidence --json show k'."""
    head, tail, want_json = [], [], False
    position = 0
    while position < len(args):  # options before the command
        arg = args[position]
        if arg in _GLOBAL_VALUES and position + 1 < len(args):
            head += args[position : position + 2]
            position += 2
        elif arg == "--json":
            want_json, position = True, position + 1
        elif arg.startswith("-") and arg != "--":
            head.append(arg)
            position += 1
        else:
            break
    command = args[position : position + 1]
    position += 1
    while position < len(args):  # the command's own arguments, global options picked out
        arg = args[position]
        if arg == "--":
            tail += args[position:]
            break
        if arg in _GLOBAL_VALUES and position + 1 < len(args):
            head += args[position : position + 2]
            position += 2
            continue
        if arg in _GLOBAL_FLAGS or arg.startswith(("--library=", "--mailto=")):
            head.append(arg)
        else:
            tail.append(arg)
        position += 1
    if want_json and command and "--json" not in tail:
        tail.insert(0, "--json")
    return head + command + tail


def main(argv: list[str] | None = None) -> None:
    """Entry point: run click, turning every EvidenceError into one sentence on stderr and its exit code."""
    args = place_global_options(sys.argv[1:] if argv is None else list(argv))
    debug = "--debug" in args
    try:
        cli.main(args=args, prog_name="evidence", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.Abort:
        click.echo("Interrupted; everything stored so far is kept.", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(2)
    except EvidenceError as error:
        if debug:
            raise
        click.echo(f"error: {terminal_safe(str(error))}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted; everything stored so far is kept.", err=True)
        sys.exit(130)
    except BrokenPipeError:  # the reader of our output went away (| head): nothing more to say
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as error:  # noqa: BLE001 - the last line of defence: a sentence, never a traceback
        if debug:
            raise
        click.echo(
            f"error: an unexpected problem stopped evidence ({type(error).__name__}: {error}); "
            "rerun with --debug for details.",
            err=True,
        )
        sys.exit(3)
