"""Every config under configs/ is at most two ``_base_`` levels deep: a
leaf whose base has a base is two deep (as in mmpretrain), so a recipe
reads from its bases and an ablation from its recipe, nothing further."""
import pytest

from tiny_cluster_contrast import REPO_ROOT, load_script

tool = load_script(REPO_ROOT / 'tools' / 'misc' / 'config_fingerprints.py',
                   'config_fingerprints')
LEAVES = tool.leaf_configs()
MAX_DEPTH = 2


def test_the_leaves_are_found():
    assert len(LEAVES) > 40
    assert not any('_base_' in p for p in LEAVES)


@pytest.mark.parametrize(
    'path', LEAVES, ids=lambda p: tool.config_key(p).split('/', 1)[1])
def test_at_most_two_base_levels(path):
    chain = [path]
    while tool.base_files(chain[-1]):
        chain.append(max(tool.base_files(chain[-1]), key=tool.base_depth))
    assert tool.base_depth(path) <= MAX_DEPTH, ' -> '.join(
        tool.config_key(p) for p in chain)
