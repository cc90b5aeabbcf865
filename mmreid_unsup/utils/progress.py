"""The progress callback chunked computations report their advance to."""
from typing import Callable

__all__ = ['ProgressCallback']

#: ``progress(num_done, num_total)``: called by a chunked stage after each
#: chunk, with counts in any unit the stage chooses (rows, chunks, ...).
ProgressCallback = Callable[[int, int], None]
