# lambda_c ablation of the CUHK03 CPU recipe: twice the reference camera
# term (0.1), in the neighbour selection and in the reference test distance.
_base_ = ['./scl_r18_1xb64-10e_cuhk03-dev.py']

model = dict(head=dict(selector=dict(lambda_c=0.1)))
val_evaluator = [
    dict(type='ReIDMetric'),
    dict(type='SCLReIDMetric', lambda_g=0.5, lambda_c=0.1),
]
test_evaluator = val_evaluator
