from .bn_neck import BNNeck
from .gem import GeneralizedMeanPooling
from .global_stripe_neck import GlobalStripeNeck
from .osnet_fc_neck import OSNetFCNeck
from .patch_attention_neck import PatchAttentionNeck
from .patch_generator import PatchGenerator, stripe_thetas
from .patch_neck import PatchNeck

__all__ = [
    'BNNeck', 'GeneralizedMeanPooling', 'GlobalStripeNeck', 'OSNetFCNeck',
    'PatchAttentionNeck', 'PatchGenerator', 'PatchNeck', 'stripe_thetas'
]
