# Variant of the CUHK03 CPU recipe: both proxies plus Cluster-Contrast's
# centroid memory and loss (the optional centroid term).
_base_ = ['./gracl_r18_1xb64-10e_cuhk03-dev.py']

model = dict(
    head=dict(centroid_memory=dict(type='ClusterMemory', momentum=0.1)))
