"""BadDataReport: counts per kind, the first entries, the text."""
import pytest

from mmreid_unsup.datasets.bad_data_report import BadDataReport, BadEntry


def test_counts_every_entry_lists_the_first():
    report = BadDataReport("Toy, split 'train'", max_listed=2)
    for i in range(4):
        report.add('missing', f'/d/{i}.jpg', 'no such file', index=i)
    report.add('bad_name', '/d/x.jpg', 'cannot parse')  # parsed out: no index
    report.add('grayscale', '/d/g.jpg', 'JPEG mode L', index=7)
    report.num_entries = 9

    assert report.counts == {'missing': 4, 'bad_name': 1, 'grayscale': 1}
    assert report.num_unusable == 5 and report.num_convertible == 1
    assert report.unusable_indices == {0, 1, 2, 3}
    assert report.listed['missing'] == [
        BadEntry('missing', '/d/0.jpg', 'no such file', 0),
        BadEntry('missing', '/d/1.jpg', 'no such file', 1)
    ]
    text = report.format()
    assert text.splitlines()[0] == (
        "Toy, split 'train': 5 of 9 entries unusable, 1 convertible "
        '(no image check)')
    assert '  missing (file does not exist): 4\n' \
        '    /d/0.jpg: no such file\n    /d/1.jpg: no such file\n' \
        '    ... and 2 more' in text
    assert 'grayscale (grayscale image, converted to 3-channel 8-bit when ' \
        'loaded): 1\n    /d/g.jpg: JPEG mode L' in text
    # Kinds come in a fixed order: unusable first, convertible last.
    assert text.index('missing (') < text.index('bad_name (') < \
        text.index('grayscale (')


def test_rejected_convertible_images_are_unusable():
    report = BadDataReport('Toy')
    report.add('alpha', '/d/a.png', 'PNG mode RGBA', index=3, unusable=True)
    assert report.num_unusable == 1 and report.unusable_indices == {3}
    assert 'rejected (convert_images=False)' in report.format(converted=False)


def test_to_dict_and_truthiness():
    report = BadDataReport('Toy', max_listed=1)
    assert not report
    report.image_check, report.num_files_checked = 'header', 3
    report.add('empty', '/d/a.jpg', '0 bytes', index=0)
    report.add('empty', '/d/b.jpg', '0 bytes', index=1)
    assert report
    assert report.to_dict() == dict(
        name='Toy',
        num_entries=0,
        image_check='header',
        num_files_checked=3,
        check_seconds=0.0,
        counts={'empty': 2},
        examples={'empty': ['/d/a.jpg: 0 bytes']})


def test_unknown_kind():
    with pytest.raises(KeyError, match="unknown kind 'broken'"):
        BadDataReport('Toy').add('broken', '/d/a.jpg')
