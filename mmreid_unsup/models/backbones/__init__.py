from .osnet import OSNet
from .resnet import ReIDResNet

__all__ = ['OSNet', 'ReIDResNet']
