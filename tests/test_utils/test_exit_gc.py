"""freeze_gc_at_exit: the collector skips, at exit, what was alive then."""
import subprocess
import sys

import pytest

from tiny_cluster_contrast import REPO_ROOT

#: Registers a probe first (atexit runs handlers last-in, first-out, so the
#: probe runs after anything registered later), calls the function or not,
#: writes a file and exits as a tool does.
SCRIPT = r'''
import atexit
import gc
import sys

from mmreid_unsup.utils import freeze_gc_at_exit

atexit.register(lambda: print('frozen', gc.get_freeze_count(), flush=True))
if sys.argv[1] == 'freeze':
    freeze_gc_at_exit()
with open(sys.argv[2], 'w') as f:
    f.write('written')
'''


def _exit_report(tmp_path, mode):
    out = tmp_path / f'{mode}.txt'
    result = subprocess.run([sys.executable, '-c', SCRIPT, mode, str(out)],
                            cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout.split()[-1]), out.read_text()


@pytest.mark.parametrize('mode', ['freeze', 'keep'])
def test_only_the_call_freezes_the_objects_at_exit(tmp_path, mode):
    frozen, written = _exit_report(tmp_path, mode)
    # With the call, every object alive at exit (thousands: the package
    # was imported) is frozen before the interpreter tears down.
    assert (frozen > 1000) == (mode == 'freeze'), frozen
    assert written == 'written'
