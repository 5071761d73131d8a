"""The differential test's tools: case generator, iam-simulate installer and driver, minimizer."""
