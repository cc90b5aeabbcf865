from .base_reid_model import BaseReIDModel
from .cluster_contrast import ClusterContrast
from .scl import SCL
from .gracl import GRACL
from .ppssl import PPSSL
from .gsl import GSL

__all__ = ['BaseReIDModel', 'ClusterContrast', 'SCL', 'GRACL', 'PPSSL',
           'GSL']
