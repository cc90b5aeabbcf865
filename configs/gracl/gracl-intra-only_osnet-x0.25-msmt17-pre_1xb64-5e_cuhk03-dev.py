# Ablation under the fair CPU protocol: the intra-ID proxies alone (the
# recipe's inter-ID proxies replaced by the intra-ID ones of
# gracl-both-proxies_...).
_base_ = ['./gracl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(
    head=dict(
        inter_memory=None,
        intra_memory=dict(
            _delete_=True,
            type='ProxyMemory',
            selector=dict(type='IntraIDProxySelector'),
            momentum=0.1,
            update_rule='hard')))
