from .bn_neck import BNNeck
from .gem import GeneralizedMeanPooling
from .osnet_fc_neck import OSNetFCNeck

__all__ = ['BNNeck', 'GeneralizedMeanPooling', 'OSNetFCNeck']
