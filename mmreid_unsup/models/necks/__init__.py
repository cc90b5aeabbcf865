from .bn_neck import BNNeck
from .gem import GeneralizedMeanPooling

__all__ = ['BNNeck', 'GeneralizedMeanPooling']
