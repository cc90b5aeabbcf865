"""IPFL: the image-level feature learning loss with cycle ranking (PAUL)."""
import torch
import torch.nn as nn

from mmreid_unsup.registry import MODELS


def _euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(M, G)`` Euclidean distances, with a finite gradient at 0."""
    sq = (a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1) - 2 * a @ b.t())
    return sq.clamp(min=1e-12).sqrt()


@MODELS.register_module()
class IPFLLoss(nn.Module):
    """A triplet loss against image agents, negatives by cycle ranking.

    PAUL's ``Ipfl`` (``src/loss/myloss.py``). Each row ``x`` is the
    embedding of one view of image ``g`` (an image and its augmented copy
    share ``g``); the agents ``a_1 ... a_G`` are the batch images' moving
    averages (:class:`~mmreid_unsup.models.memories.AgentMemory`). With
    Euclidean distances::

        l_x = max(0, margin + ||x - a_g|| - ||x - a_c||)

    The negative agent ``c`` is chosen by **cycle ranking**: the other
    agents are taken in order of increasing distance to ``x``, at most
    ``max_candidates`` of them, and the first candidate whose own
    ``nearest`` nearest agents (counting the candidate itself, as the
    reference does) do not include ``a_g`` is accepted; a candidate that
    would rank ``g`` among its nearest is likely the same person. If no
    candidate is accepted the negative distance is 0, as in the reference.
    The loss is the mean over rows, times ``loss_weight``; the agents carry
    no gradient.

    Args:
        margin (float): Defaults to 2.0 (PAUL's ``--margin 2``).
        max_candidates (int): Candidates checked per row. Defaults to 15.
        nearest (int): Size of a candidate's neighbourhood, itself
            included. Defaults to 3.
        loss_weight (float): Multiplier of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 margin: float = 2.0,
                 max_candidates: int = 15,
                 nearest: int = 3,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if max_candidates < 1 or nearest < 1:
            raise ValueError('IPFLLoss: max_candidates and nearest must be '
                             f'>= 1, got {max_candidates} and {nearest}')
        self.margin = margin
        self.max_candidates = max_candidates
        self.nearest = nearest
        self.loss_weight = loss_weight

    @torch.no_grad()
    def select_negatives(self, dists: torch.Tensor, labels: torch.Tensor,
                         agents: torch.Tensor) -> torch.Tensor:
        """The cycle-ranking negative agent of every row.

        Args:
            dists (Tensor): ``(M, G)`` distances of the rows to the agents.
            labels (Tensor): ``(M,)`` each row's own agent.
            agents (Tensor): ``(G, E)``.

        Returns:
            Tensor: ``(M,)`` long, the accepted agent, ``-1`` where none was.
        """
        num_agents = agents.shape[0]
        rows = torch.arange(labels.numel(), device=labels.device)
        if num_agents < 2:
            return torch.full_like(labels, -1)
        # near[c, g]: agent g is among the `nearest` nearest agents of c.
        agent_dists = _euclidean(agents, agents)
        agent_dists.fill_diagonal_(0.0)
        order = torch.sort(agent_dists, dim=1, stable=True).indices
        near = torch.zeros_like(agent_dists, dtype=torch.bool)
        near.scatter_(1, order[:, :self.nearest], True)
        # Candidates: the other agents by increasing distance to the row.
        dists = dists.clone()
        dists[rows, labels] = float('inf')
        width = min(self.max_candidates, num_agents - 1)
        candidates = torch.sort(
            dists, dim=1, stable=True).indices[:, :width]
        accepted = ~near[candidates, labels.unsqueeze(1)]
        first = accepted.to(torch.uint8).argmax(1)
        chosen = candidates[rows, first]
        return torch.where(accepted.any(1), chosen, torch.full_like(chosen,
                                                                    -1))

    def forward(self, feats: torch.Tensor, labels: torch.Tensor,
                agents: torch.Tensor) -> torch.Tensor:
        """Compute the loss.

        Args:
            feats (Tensor): ``(M, E)`` embeddings of the views.
            labels (Tensor): ``(M,)`` long, the row of ``agents`` of each
                view's image.
            agents (Tensor): ``(G, E)`` the batch images' agents (no
                gradient).

        Returns:
            Tensor: A scalar.
        """
        if feats.dim() != 2 or agents.dim() != 2 or (feats.shape[1] !=
                                                     agents.shape[1]):
            raise ValueError(
                'IPFLLoss: feats must be (M, E) and agents (G, E), got '
                f'{tuple(feats.shape)} and {tuple(agents.shape)}')
        labels = labels.to(feats.device).long()
        if labels.numel() != feats.shape[0] or (labels.numel() and (
                int(labels.min()) < 0 or
                int(labels.max()) >= agents.shape[0])):
            raise ValueError(
                f'IPFLLoss: labels must give one agent row in [0, '
                f'{agents.shape[0]}) per feature row')
        if feats.shape[0] == 0:
            return feats.sum() * 0.0
        agents = agents.detach().to(feats)
        dists = _euclidean(feats, agents)
        positive = dists.gather(1, labels.unsqueeze(1)).squeeze(1)
        negative_idx = self.select_negatives(dists.detach(), labels, agents)
        negative = dists.gather(1, negative_idx.clamp(min=0).unsqueeze(1))
        negative = negative.squeeze(1) * (negative_idx >= 0)
        loss = (self.margin + positive - negative).clamp(min=0)
        return self.loss_weight * loss.mean()

    def extra_repr(self) -> str:
        return (f'margin={self.margin}, max_candidates={self.max_candidates}'
                f', nearest={self.nearest}, loss_weight={self.loss_weight}')
