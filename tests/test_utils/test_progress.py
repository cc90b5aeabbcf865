"""progress_bar: MMEngine's ProgressBar on stderr, or nothing."""
import pytest

from mmreid_unsup.utils.progress import progress_bar


def test_the_bar_shows_the_label_and_reaches_the_total(capsys):
    with progress_bar('extract features', 4) as progress:
        for done in range(1, 4):
            progress(done, 4)
    captured = capsys.readouterr()
    assert captured.out == ''  # stdout stays the tools' own
    lines = captured.err.split('\n')
    assert lines[0] == 'extract features'
    assert '4/4' in lines[1] and lines[2:] == ['']


def test_the_total_may_change_and_counts_never_go_back(capsys):
    with progress_bar('jaccard') as progress:
        progress(3, 10)
        progress(2, 10)  # a smaller count moves nothing
        progress(20, 10)  # a count past the total is the total
    assert '10/10' in capsys.readouterr().err


def test_disabled_writes_nothing(capsys):
    with progress_bar('quiet', 3, enabled=False) as progress:
        progress(1, 3)
    assert capsys.readouterr() == ('', '')


def test_an_error_ends_the_line_and_propagates(capsys):
    with pytest.raises(KeyError):
        with progress_bar('failing', 5) as progress:
            progress(2, 5)
            raise KeyError('boom')
    err = capsys.readouterr().err
    assert err.endswith('\n') and '2/5' in err and '5/5' not in err
