# Ablation under the fair CPU protocol: the intra-ID proxies alone.
_base_ = ['./gracl-both-proxies_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(head=dict(inter_memory=None))
