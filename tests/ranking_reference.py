"""A straightforward per-query re-ID evaluation, the reference the fast
ranking (``mmreid_unsup.evaluation.functional``) is tested against."""
from typing import Dict, List, Sequence

import numpy as np


def reference_query_stats(distmat, q_pids, g_pids, q_camids,
                          g_camids) -> List[Dict[str, float]]:
    """Per query: a stable argsort of its row, junk (same identity and
    camera) removed, then the ranks of the true matches.

    Returns:
        list[dict]: per query, ``num_matches``, ``ap`` (mean precision at
        each match), ``inp`` (matches / rank of the last one) and
        ``first_match`` (its 1-based rank); 0 for queries without a match.
    """
    distmat = np.asarray(distmat, dtype=np.float32)
    q_pids, g_pids = np.asarray(q_pids), np.asarray(g_pids)
    q_camids, g_camids = np.asarray(q_camids), np.asarray(g_camids)
    out = []
    for q in range(len(q_pids)):
        order = np.argsort(distmat[q], kind='stable')
        same = g_pids[order] == q_pids[q]
        junk = same & (g_camids[order] == q_camids[q])
        ranks = np.flatnonzero(same[~junk]) + 1
        if len(ranks) == 0:
            out.append(dict(num_matches=0, ap=0.0, inp=0.0, first_match=0))
            continue
        out.append(
            dict(
                num_matches=len(ranks),
                ap=float(np.mean(np.arange(1, len(ranks) + 1) / ranks)),
                inp=len(ranks) / ranks[-1],
                first_match=int(ranks[0])))
    return out


def reference_scores(distmat, q_pids, g_pids, q_camids, g_camids,
                     topk: Sequence[int] = (1, 5, 10)) -> Dict[str, float]:
    """mAP, CMC rank-k and mINP in percent over the queries with a match,
    as :func:`~mmreid_unsup.evaluation.functional.evaluate_rank`."""
    stats = [
        s for s in reference_query_stats(distmat, q_pids, g_pids, q_camids,
                                         g_camids) if s['num_matches']
    ]
    out = dict(mAP=100 * np.mean([s['ap'] for s in stats]))
    for k in topk:
        out[f'rank{k}'] = 100 * np.mean([s['first_match'] <= k
                                         for s in stats])
    out['mINP'] = 100 * np.mean([s['inp'] for s in stats])
    out['num_valid_queries'] = len(stats)
    out['num_skipped_queries'] = len(q_pids) - len(stats)
    return out
