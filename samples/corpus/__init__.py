"""Generated documents with known truth: the demo inbox and the test/benchmark corpus."""
