"""Read: any input (CSV, Parquet, JSON lines; files, datasets, URLs, stdin) as pieces of rows.

`open_source` is the one entry point (dispatch.py). Each format is a small
`Source` (source.py) over the input's bytes (content.py); text formats are
cut into runs of whole lines (cutting.py) so every error names its line.
"""

from driftcli.inputs.dispatch import open_source
from driftcli.inputs.files import STDIN, TerminalStdin
from driftcli.inputs.piece import BadLines, Piece
from driftcli.inputs.source import Source

__all__ = [
    "STDIN",
    "BadLines",
    "Piece",
    "Source",
    "TerminalStdin",
    "open_source",
]
