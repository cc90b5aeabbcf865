from .resnet import ReIDResNet

__all__ = ['ReIDResNet']
