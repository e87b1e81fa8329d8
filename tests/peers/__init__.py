"""Real-peer tests: SDKs, workers and CLIs run as separate processes against a live gateway."""
