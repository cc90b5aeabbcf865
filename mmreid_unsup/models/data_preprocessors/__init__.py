from .reid_data_preprocessor import ReIDDataPreprocessor

__all__ = ['ReIDDataPreprocessor']
