"""The embedded demo account: moto's server on 127.0.0.1, seeded through boto3 like a real company."""
