"""Read: any input (CSV, Parquet, JSON lines; files, datasets, URLs, stdin) as chunks of rows.

`open_source` is the one entry point (dispatch.py). Each format is a small
`Source` (source.py) over the input's bytes (content.py); text formats are
cut into runs of whole lines (cutting.py) so every error names its line.
"""

from driftcli.inputs.chunk import BadLines, Chunk
from driftcli.inputs.dispatch import open_source
from driftcli.inputs.files import STDIN, TerminalStdin
from driftcli.inputs.source import Source

__all__ = [
    "STDIN",
    "BadLines",
    "Chunk",
    "Source",
    "TerminalStdin",
    "open_source",
]
