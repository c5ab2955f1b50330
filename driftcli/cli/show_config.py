"""`--show-config`: the effective settings of a command, and where each came from."""

from driftcli.choices import OutputFormat
from driftcli.cli.runtime import Context, write_json, write_stdout


def show_config(context: Context, output_format: OutputFormat) -> None:
    import sys

    from driftcli.config import describe, describe_json
    from driftcli.output.texts import json_text, shown

    resolved = context.resolved
    if output_format is OutputFormat.JSON:
        write_json(json_text(describe_json(resolved)))
        return
    where = (
        resolved.config_path or "none found (driftcli.toml or [tool.driftcli] in pyproject.toml)"
    )
    lines = [shown(f"config file: {where}")]
    rows = [tuple(shown(part) for part in row) for row in describe(resolved)]
    width = max(len(key) for key, _, _ in rows)
    lines += [f"{key:<{width}}  {value}  ({source})" for key, value, source in rows]
    write_stdout(lambda: sys.stdout.write("\n".join(lines) + "\n"))
