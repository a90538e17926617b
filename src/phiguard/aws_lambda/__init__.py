"""AWS Lambda handlers: drop-in for the reference design's functions, configured by environment.

Handler strings (deploy/aws/template.yaml):

    phiguard.aws_lambda.identify_phi          IdentifyPHI: entities, Comprehend Medical's shape
    phiguard.aws_lambda.mask_entities         MaskEntities: the masked message
    phiguard.aws_lambda.deidentify_entities   DeidentifyEntities: {deid_message, hashed_message}
    phiguard.aws_lambda.reidentify_entities   the original message, audited
    phiguard.aws_lambda.s3_batch              S3 ObjectCreated: JSONL in, de-identified JSONL out
    phiguard.aws_lambda.http                  API Gateway: the `phiguard serve` app via Mangum

See `environment` for the variables, `runtime` for deadlines and errors, docs/aws.md for the
deployment.
"""

from phiguard.aws_lambda.http import http
from phiguard.aws_lambda.notes import (
    deidentify_entities,
    identify_phi,
    mask_entities,
    reidentify_entities,
)
from phiguard.aws_lambda.s3_batch import s3_batch

__all__ = [
    "deidentify_entities",
    "http",
    "identify_phi",
    "mask_entities",
    "reidentify_entities",
    "s3_batch",
]
