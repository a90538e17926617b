"""The AWS Comprehend Medical DetectPHI backend: requests cut and packed under its byte limit."""
