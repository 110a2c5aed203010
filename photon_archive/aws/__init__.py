"""Thin boto3 adapters. One code path: real AWS, or the emulator named by ``AWS_ENDPOINT_URL``."""
