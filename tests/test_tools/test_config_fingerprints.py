"""tools/misc/config_fingerprints.py: a leaf's digest is that of its merged
config, so it survives any reshuffle of the bases that merges the same."""
import json

from tiny_cluster_contrast import REPO_ROOT, load_script

tool = load_script(REPO_ROOT / 'tools' / 'misc' / 'config_fingerprints.py',
                   'config_fingerprints')


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_digests_follow_the_merged_config_not_the_files(tmp_path, capsys):
    root = tmp_path / 'configs'
    write(root / '_base_' / 'a.py', 'x = dict(a=1, b=2)\n')
    write(root / '_base_' / 'b.py', "_base_ = ['./a.py']\ny = [1]\n")
    leaf = write(root / 'm' / 'leaf.py', "_base_ = ['../_base_/b.py']\n")
    # The same merged config in one file, its keys in another order.
    flat = write(root / 'm' / 'flat.py', 'y = [1]\nx = dict(b=2, a=1)\n')
    assert tool.leaf_configs(str(root)) == [str(flat), str(leaf)]
    assert tool.fingerprint(str(leaf)) == tool.fingerprint(str(flat))
    assert [tool.base_depth(str(p)) for p in (flat, leaf)] == [0, 2]

    before = tmp_path / 'before.json'
    assert tool.main(['--root', str(root), '--out', str(before)]) == 0
    digests = json.loads(before.read_text())
    assert sorted(digests) == ['configs/m/flat.py', 'configs/m/leaf.py']
    # A changed value in a base changes the leaf; the check names it.
    write(root / '_base_' / 'a.py', 'x = dict(a=1, b=3)\n')
    capsys.readouterr()
    assert tool.main(['--root', str(root), '--check', str(before)]) == 1
    assert 'changed  configs/m/leaf.py' in capsys.readouterr().err
    assert tool.compare({'p': 'd'}, {'q': 'd'}) == ['missing  p', 'new      q']


def test_depth_of_the_repository_configs(capsys):
    assert tool.main(['--depth']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(tool.leaf_configs())
    assert all('_base_' not in line for line in lines)
