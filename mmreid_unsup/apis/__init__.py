"""Inference: build a model, describe images, search a gallery, export."""
from .export import ReIDExportModel, check_onnx, export_onnx, random_images
from .inference import extract_features, init_model, list_images
from .search import search_gallery
from .zoo import get_model

__all__ = [
    'init_model', 'get_model', 'extract_features', 'list_images',
    'search_gallery', 'ReIDExportModel', 'export_onnx', 'check_onnx',
    'random_images'
]
