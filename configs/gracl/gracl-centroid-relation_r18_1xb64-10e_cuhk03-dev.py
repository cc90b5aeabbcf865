# Variant of the CUHK03 CPU recipe: the cheaper inter-ID relation, to the
# nearest other cluster *centroid* instead of the nearest other sample.
_base_ = ['./gracl_r18_1xb64-10e_cuhk03-dev.py']

model = dict(head=dict(inter_memory=dict(selector=dict(relation='centroid'))))
