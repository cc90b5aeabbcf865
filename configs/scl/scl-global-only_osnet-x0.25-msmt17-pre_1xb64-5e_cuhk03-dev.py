# Stripe ablation under the fair CPU protocol: no stripes. Neighbours are
# chosen, trained and retrieved with the global embedding only (lambda_g 1,
# lambda_p 0); the stripe branch is built but takes no part.
_base_ = ['./scl_osnet-x0.25-msmt17-pre_1xb64-5e_cuhk03-dev.py']

model = dict(head=dict(selector=dict(lambda_g=1.0), local_loss_weight=0.0))
