from .flip_tta import ReIDFlipTTAModel, flip_averaged_features

__all__ = ['ReIDFlipTTAModel', 'flip_averaged_features']
